// The text of anything thrown: an Error's message, or the value itself (DeviceScript code may
// throw non-Error values, and the logs and typed results want one line either way).
export function errText(err: any): string {
    return err && err.message ? err.message : `${err}`
}
