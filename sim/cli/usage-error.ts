// Bad input to `npm run sim`: one line of explanation and exit code 2 (its own module so that the
// option and fault parsers can both throw it without importing each other).

export class UsageError extends Error {
    constructor(message: string) {
        super(message)
        this.name = "UsageError"
    }
}
