// One `SOTA…` status line of the simulator's firmware (firmware.ts): the event as JSON with the
// boot's stats appended. The VM cuts a console line at 296 characters, and a cut line is no longer
// JSON, so the host never saw the event (a refused image's long `detail` made the run time out):
// a `detail` that would carry the line past LINE_MAX is shortened, marked with "...".

/** Characters of a whole line, its tag included; the VM keeps 296. */
export const LINE_MAX = 280

/** `obj` as JSON with `"stats":<st>` as its last field, with its tag at most LINE_MAX characters unless only the detail could be cut. */
export function statusJson(obj: any, st: string): string {
    let j = JSON.stringify(obj)
    const over = j.length + st.length + 22 - LINE_MAX // 22: the tag and its space (≤ 11), ',"stats":' and the brace
    const d: string = obj.detail
    if (over > 0 && d && d.length > 0) {
        obj.detail = d.slice(0, Math.max(0, d.length - over - 3)) + "..."
        j = JSON.stringify(obj)
        obj.detail = d
    }
    return `${j.slice(0, j.length - 1)},"stats":${st}}`
}
