// Module firmware upgrade (DFOTA, AT+QFOTADL) driven by the MCU.
//
// | file          | idea                                                                          |
// |---------------|-------------------------------------------------------------------------------|
// | location.ts   | HTTP/HTTPS/FTP URL or UFS:<file> → FotaLocation, or a LocationError naming the |
// |               | broken rule (§8 limits: 255 / 50 / 128 bytes, ports 1..65535, FTP user:pass@)  |
// | codes.ts      | FTPEND 601..630, HTTPEND 701..730, END 502..546 → stable name + guide meaning  |
// | urc.ts        | `+QIND: "FOTA",...` (spaces after commas or not) → FotaUrc                      |
// | dfota.ts      | ModuleUpgrade.run(location, options): lock, ATI, fota/cid, AT+QFOTADL, the URC |
// |               | sequence with a timeout per stage, the reboot, RDY, resync + ATE0 + ATI, then  |
// |               | AT+QIOTREG=1; a JSON-able DfotaResult. runModuleUpgrade() for the CLI.         |
// The lock shared with SOTA is src/lib/upgrade-lock.ts.
export * from "./location"
export * from "./codes"
export * from "./urc"
export * from "./dfota"
