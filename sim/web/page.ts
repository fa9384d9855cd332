// The web view's page: one HTML document, no build step, no external resources. It follows the
// server's model (server.ts) over Server-Sent Events (/events) and posts the buttons' actions.
// Element ids are what test/web drives: #phase, #state, #result, #slot-0, #slot-1, #records, #plan,
// #download, #rate, #eta, #at, #log, #cut-power, #reboot-module, #corrupt-bytes, #actions.
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>QuecThing SOTA simulator</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 10px 16px; display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 16px; margin: 0; }
  main { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; padding: 12px; }
  section { background: #fff; border-radius: 6px; padding: 10px 12px; box-shadow: 0 1px 2px #0002; min-width: 0; }
  section h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; margin: 0 0 8px; color: #56607a; }
  .slots { display: flex; gap: 10px; }
  .slot { flex: 1; border: 2px solid #c9ced8; border-radius: 6px; padding: 8px; }
  .slot.active { border-color: #2f6fdf; }
  .slot .state { font-weight: 600; font-size: 16px; }
  .st-confirmed { color: #1a8f3c; } .st-trial { color: #c77c00; } .st-receiving { color: #2f6fdf; }
  .st-ready { color: #6a3fc1; } .st-bad { color: #c0312b; } .st-empty { color: #8a93a6; }
  .bar { height: 16px; background: #e3e6ec; border-radius: 8px; overflow: hidden; margin: 6px 0; }
  .bar > div { height: 100%; background: #2f6fdf; width: 0; transition: width .2s; }
  pre, .mono { font: 12px/1.35 ui-monospace, monospace; }
  #at { height: 260px; overflow: auto; background: #10131a; color: #d8dee9; padding: 6px; border-radius: 4px; margin: 0; }
  #at .to { color: #8fbcff; } #at .from { color: #a3e3a3; }
  #log { height: 140px; overflow: auto; margin: 0; }
  table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: 2px 6px; vertical-align: top; border-bottom: 1px solid #eef0f3; }
  button { font: inherit; padding: 6px 12px; margin: 0 6px 6px 0; border-radius: 4px; border: 1px solid #9aa3b5; background: #fff; cursor: pointer; }
  button:hover { background: #eef3ff; } button:disabled { opacity: .5; cursor: default; }
  .wide { grid-column: 1 / -1; }
  .done-upgraded { color: #7ee29b; } .done-other { color: #ffb4ab; }
</style>
</head>
<body>
<header>
  <h1 id="title">QuecThing SOTA simulator</h1>
  <span>phase <b id="phase">starting</b></span>
  <span>state <b id="state">-</b></span>
  <span>running <b id="running">-</b></span>
  <span id="result"></span>
</header>
<main>
  <section>
    <h2>Flash slots</h2>
    <div class="slots">
      <div class="slot" id="slot-0"><div>slot 0</div><div class="state">-</div><div class="info mono"></div></div>
      <div class="slot" id="slot-1"><div>slot 1</div><div class="state">-</div><div class="info mono"></div></div>
    </div>
    <div class="mono" id="journal"></div>
    <div class="mono" id="store-error"></div>
  </section>
  <section>
    <h2>Plan and download</h2>
    <div id="plan">no plan yet</div>
    <div class="bar"><div id="bar"></div></div>
    <div id="download" class="mono">-</div>
    <div class="mono">rate <span id="rate">-</span> · time left <span id="eta">-</span></div>
  </section>
  <section>
    <h2>Faults</h2>
    <button id="cut-power" title="the power goes at the flash's next program or erase; the VM dies with it and boots again">Cut power</button>
    <button id="reboot-module" title="the module restarts (RDY) and forgets its session">Reboot module</button>
    <button id="corrupt-bytes" title="the next bytes from the module to the MCU arrive corrupted">Corrupt bytes</button>
    <table id="actions"></table>
  </section>
  <section>
    <h2>Newest metadata records</h2>
    <table id="records"></table>
  </section>
  <section class="wide">
    <h2>AT dialogue</h2>
    <pre id="at"></pre>
  </section>
  <section>
    <h2>States</h2>
    <div id="states-box" style="max-height: 320px; overflow: auto"><table id="states"></table></div>
  </section>
  <section>
    <h2>Log</h2>
    <pre id="log"></pre>
  </section>
</main>
<script>
const $ = id => document.getElementById(id)
const esc = s => String(s == null ? "" : s).replace(/[&<>]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c])
const kb = n => n >= 1024 ? (n / 1024).toFixed(1) + " KB" : n + " B"
let atCount = -1
function render(m) {
  $("title").textContent = m.title
  $("phase").textContent = m.phase
  $("state").textContent = m.state || "-"
  $("running").textContent = m.running || "-"
  for (let i = 0; i < 2; i++) {
    const s = m.slots[i], el = $("slot-" + i)
    if (!s) continue
    el.className = "slot" + (s.active ? " active" : "")
    const st = el.querySelector(".state")
    st.textContent = s.state + (s.active ? " (active)" : "")
    st.className = "state st-" + s.state
    el.querySelector(".info").textContent = (s.version || "-") + " · " + kb(s.size) + (s.state === "trial" ? " · " + s.bootsLeft + " boot(s) left" : "") + (s.crc32 ? " · crc " + s.crc32 : "")
  }
  $("journal").textContent = m.journal.written >= 0 ? "journal: written " + m.journal.written + ", verified " + m.journal.verified : ""
  $("store-error").textContent = m.storeError ? "store: " + m.storeError : ""
  const p = m.plan
  $("plan").innerHTML = p ? "<b>" + esc(p.target) + "</b>, " + kb(p.size) + ": <span id=plan-status>" + esc(p.status) + "</span>" + (p.reason ? " [" + esc(p.reason) + "] " + esc(p.detail) : "") : "no plan yet"
  const d = m.download
  $("bar").style.width = (d ? d.percent : 0) + "%"
  $("download").textContent = d ? d.bytes + " / " + d.total + " bytes (" + d.percent + " %)" : "-"
  $("rate").textContent = d && d.rate > 0 ? kb(d.rate) + "/s" : "-"
  $("eta").textContent = d && d.etaSeconds >= 0 ? d.etaSeconds + " s" : "-"
  $("records").innerHTML = m.records.map(r => "<tr><td>#" + r.seq + "</td><td>" + esc(r.type) + "</td><td class=mono>" + esc(r.text) + "</td></tr>").join("")
  $("states").innerHTML = m.states.map(s => "<tr><td class=mono>" + (s.t / 1000).toFixed(1) + " s</td><td>" + esc(s.version) + "</td><td><b>" + esc(s.state) + "</b>" + (s.target ? " → " + esc(s.target) : "") + (s.reason ? " [" + esc(s.reason) + "]" : "") + "</td></tr>").join("")
  $("states-box").scrollTop = $("states-box").scrollHeight
  $("actions").innerHTML = m.actions.map(a => "<tr><td class=mono>" + (a.t / 1000).toFixed(1) + " s</td><td>" + esc(a.what) + "</td><td>" + esc(a.text) + "</td></tr>").join("")
  if (m.atTotal !== atCount) {
    atCount = m.atTotal
    const at = $("at"), bottom = at.scrollTop + at.clientHeight >= at.scrollHeight - 4
    at.innerHTML = m.at.map(l => "<span class=" + (l.dir === "->" ? "to" : "from") + ">" + (l.t / 1000).toFixed(2).padStart(7) + " " + esc(l.dir) + " " + esc(l.text) + "</span>").join("\\n")
    if (bottom) at.scrollTop = at.scrollHeight
  }
  const log = $("log")
  log.textContent = m.log.slice(-80).join("\\n")
  log.scrollTop = log.scrollHeight
  const r = m.summary
  $("result").innerHTML = r ? "result <b id=result-text class=" + (r.result === "upgraded" ? "done-upgraded" : "done-other") + ">" + esc(r.result) + (r.reason ? " (" + esc(r.reason) + ")" : "") + "</b>, running " + esc(r.version) + (r.healthy ? ", confirmed" : "") : ""
  for (const b of ["cut-power", "reboot-module", "corrupt-bytes"]) $(b).disabled = m.phase === "done"
}
function act(what) {
  fetch("/action/" + what, { method: "POST" }).then(r => r.json()).then(j => { if (!j.ok) alert(j.text) })
}
for (const b of ["cut-power", "reboot-module", "corrupt-bytes"]) $(b).onclick = () => act(b)
const es = new EventSource("/events")
es.onmessage = e => render(JSON.parse(e.data))
</script>
</body>
</html>
`
