// One upgrade at a time: an MCU SOTA download and a module DFOTA upgrade must never overlap
// (the module cannot serve AT+QIOTOTARD while it downloads or flashes its own firmware, and a
// module reboot in the middle of a SOTA piece costs a re-download). Both engines take this
// lock before they send their first command and release it when they are done, whatever the
// outcome. Portable: no imports, no timers; the process (or VM program) shares `upgradeLock`.

export type UpgradeOwner = "sota" | "dfota"

export class UpgradeLock {
    private owner: UpgradeOwner = null

    /** Take the lock for `owner`. False when anyone (including `owner` itself) already holds it. */
    tryAcquire(owner: UpgradeOwner): boolean {
        if (this.owner !== null) return false
        this.owner = owner
        return true
    }

    /** Release the lock if `owner` holds it; false (and no change) otherwise. */
    release(owner: UpgradeOwner): boolean {
        if (this.owner !== owner) return false
        this.owner = null
        return true
    }

    /** Who holds the lock, or null when it is free. */
    holder(): UpgradeOwner {
        return this.owner
    }
}

/** The lock SOTA and DFOTA share. */
export const upgradeLock = new UpgradeLock()
