import MagpieCore

/// The operator's page at `/`: one self-contained HTML document (no fonts, scripts or styles
/// from elsewhere: the scanner PC may have no network). It draws what `/api/live` streams: the
/// newest image large in the colour map of the PNG previews (`ColourMap`, its stops filled in
/// below), with its colour bar, value range and FOV axes in mm (a volume as three orthogonal
/// slices through its brightest voxel, or their maximum-intensity projections); the newest
/// frame's receive signal and magnitude spectrum per channel with the drive frequencies'
/// harmonics marked; the counters, with a warning when frames are lost, skipped, refused or not
/// archived; the chain; and the scans in the output directory with thumbnails and downloads.
/// With a token it asks for it once and keeps it in a cookie.
enum ConsolePage {
    static let html: String = template.replacingOccurrences(
        of: "/*COLOUR_STOPS*/", with: ColourMap.stops.map { "[\($0.map(String.init).joined(separator: ","))]" }.joined(separator: ","))

    private static let template = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Magpie console</title>
<style>
  :root { --bg: #14161a; --panel: #1d2026; --line: #2c3038; --text: #e4e6ea; --dim: #9aa0aa; --warn: #ffb347; --bad: #ff6b6b; --ok: #7bd88f; }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.4 system-ui, sans-serif; }
  header { display: flex; gap: 18px; align-items: baseline; padding: 10px 16px; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  .dim { color: var(--dim); }
  #conn.ok { color: var(--ok); } #conn.bad { color: var(--bad); }
  #warning { display: none; margin: 10px 16px 0; padding: 8px 12px; border: 1px solid var(--warn); color: var(--warn); border-radius: 4px; }
  #warning.bad { border-color: var(--bad); color: var(--bad); }
  main { display: grid; grid-template-columns: minmax(420px, 1.3fr) minmax(360px, 1fr); gap: 14px; padding: 14px 16px; }
  section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; min-width: 0; }
  section h2 { font-size: 13px; font-weight: 600; margin: 0 0 8px; color: var(--dim); text-transform: uppercase; letter-spacing: .05em; }
  canvas { display: block; max-width: 100%; }
  table { border-collapse: collapse; width: 100%; }
  td, th { padding: 3px 6px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  tr.warn td { color: var(--warn); }
  .progress { height: 6px; background: var(--line); border-radius: 3px; overflow: hidden; width: 200px; display: inline-block; vertical-align: middle; }
  .progress > div { height: 100%; background: var(--ok); width: 0; }
  a { color: #8ab4ff; }
  #login { display: none; padding: 40px; }
  #login input { font: inherit; padding: 6px; width: 320px; }
  .wide { grid-column: 1 / -1; }
  img.thumb { width: 48px; height: 48px; image-rendering: pixelated; display: block; }
  label { margin-right: 10px; }
  pre { margin: 0; white-space: pre-wrap; font-size: 12px; }
</style>
</head>
<body>
<header>
  <h1>Magpie</h1>
  <span id="version" class="dim"></span>
  <span id="conn" class="bad">connecting</span>
  <span id="scan" class="dim">no scan open</span>
  <span class="progress" title="frames received of planned"><div id="progress"></div></span>
</header>
<div id="warning"></div>
<div id="login">
  <p>This console needs its token (the text of the daemon's <code>[console] token_file</code>).</p>
  <form id="login-form"><input id="token" type="password" autocomplete="current-password" placeholder="token"> <button>Open</button></form>
  <p id="login-error" style="color: var(--bad)"></p>
</div>
<main id="main">
  <section>
    <h2>Newest image</h2>
    <div><span id="image-caption" class="dim">waiting for the first image</span></div>
    <div id="view3d" style="display:none; margin: 4px 0">
      <label><input type="radio" name="v3" value="slices" checked> slices through the brightest voxel</label>
      <label><input type="radio" name="v3" value="mip"> maximum-intensity projections</label>
    </div>
    <canvas id="image" width="640" height="560"></canvas>
  </section>
  <section>
    <h2>Receive signal <span id="signal-caption" class="dim" style="text-transform:none"></span></h2>
    <div id="channels"></div>
    <canvas id="signal" width="520" height="200"></canvas>
    <h2 style="margin-top:10px">Magnitude spectrum (dB); ticks: harmonics of each drive frequency</h2>
    <canvas id="spectrum" width="520" height="220"></canvas>
  </section>
  <section>
    <h2>Counters</h2>
    <table id="counters"></table>
    <p class="dim" id="rates"></p>
  </section>
  <section>
    <h2>Chain</h2>
    <pre id="chain"></pre>
    <p class="dim" id="config"></p>
  </section>
  <section class="wide">
    <h2>Scans in the output directory</h2>
    <table id="scans"><thead><tr><th></th><th>file</th><th>status</th><th>frames</th><th>images</th><th>size</th><th>written</th><th></th></tr></thead><tbody></tbody></table>
    <p class="dim" id="scans-note"></p>
  </section>
</main>
<script>
"use strict";
const STOPS = [/*COLOUR_STOPS*/];
const LUT = (() => {   // 256 RGB entries, the same interpolation as the PNG previews
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255 * (STOPS.length - 1), k = Math.min(STOPS.length - 2, Math.floor(t)), f = t - k;
    for (let c = 0; c < 3; c++) lut[3 * i + c] = Math.round(STOPS[k][c] * (1 - f) + STOPS[k + 1][c] * f);
  }
  return lut;
})();
const COUNTERS = { received: "received", archived: "archived", processed: "processed", skipped: "skipped (imaged after the scan)",
  lost: "lost (never arrived)", rejected: "refused as invalid", not_archived: "not archived (disk)", low_space_warnings: "low-space warnings",
  refused_handshakes: "refused handshakes" };
const BAD = ["lost", "rejected", "not_archived", "refused_handshakes"];
const state = { image: null, signal: null, channel: 0, mode: "slices", dirty: { image: false, signal: false }, imagesShown: 0 };
window.magpie = state;   // for tests and the curious

function floats(b64) {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}
function fmt(v) {
  if (!isFinite(v)) return String(v);
  const a = Math.abs(v);
  return (a !== 0 && (a < 1e-3 || a >= 1e5)) ? v.toExponential(2) : v.toPrecision(4).replace(/\.?0+$/, "");
}
function bytes(n) { return n > 1e9 ? (n / 1e9).toFixed(2) + " GB" : n > 1e6 ? (n / 1e6).toFixed(1) + " MB" : (n / 1e3).toFixed(0) + " kB"; }
function esc(s) { return String(s).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); }

function drawPlane(ctx, plane, x0, y0, size, low, high) {
  const w = plane.width, h = plane.height, values = floats(plane.values);
  const scale = Math.max(1, Math.floor(size / Math.max(w, h)));
  const off = document.createElement("canvas"); off.width = w; off.height = h;
  const octx = off.getContext("2d"), img = octx.createImageData(w, h), span = high > low ? high - low : 1;
  for (let i = 0; i < w * h; i++) {
    const k = Math.max(0, Math.min(255, Math.round((values[i] - low) / span * 255))) || 0;
    img.data[4 * i] = LUT[3 * k]; img.data[4 * i + 1] = LUT[3 * k + 1]; img.data[4 * i + 2] = LUT[3 * k + 2]; img.data[4 * i + 3] = 255;
  }
  octx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;   // nearest: each voxel a square
  ctx.drawImage(off, x0, y0, w * scale, h * scale);
  // Axes in mm: the first axis across, the second down (row 0 at the top, as in the PNG previews).
  ctx.fillStyle = "#9aa0aa"; ctx.strokeStyle = "#9aa0aa"; ctx.font = "11px system-ui, sans-serif";
  const [ex, ey] = plane.extentMm, W = w * scale, H = h * scale;
  for (let t = 0; t <= 4; t++) {
    const x = x0 + W * t / 4, y = y0 + H * t / 4;
    ctx.beginPath(); ctx.moveTo(x, y0 + H); ctx.lineTo(x, y0 + H + 4); ctx.stroke();
    ctx.textAlign = "center"; ctx.fillText(fmt(ex[0] + (ex[1] - ex[0]) * t / 4), x, y0 + H + 15);
    ctx.beginPath(); ctx.moveTo(x0 - 4, y); ctx.lineTo(x0, y); ctx.stroke();
    ctx.textAlign = "right"; ctx.fillText(fmt(ey[0] + (ey[1] - ey[0]) * t / 4), x0 - 6, y + 4);
  }
  ctx.textAlign = "center"; ctx.fillText(plane.axes[0] + " / mm", x0 + W / 2, y0 + H + 28);
  ctx.save(); ctx.translate(x0 - 38, y0 + H / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(plane.axes[1] + " / mm", 0, 0); ctx.restore();
  ctx.textAlign = "left"; ctx.fillStyle = "#e4e6ea"; ctx.fillText(plane.name, x0, y0 - 6);
  return { W, H };
}

function drawColourBar(ctx, x, y, h, low, high, unit) {
  for (let i = 0; i < h; i++) {
    const k = Math.round((1 - i / (h - 1)) * 255);
    ctx.fillStyle = `rgb(${LUT[3 * k]},${LUT[3 * k + 1]},${LUT[3 * k + 2]})`; ctx.fillRect(x, y + i, 16, 1);
  }
  ctx.fillStyle = "#e4e6ea"; ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "left";
  for (let t = 0; t <= 4; t++) ctx.fillText(fmt(high - (high - low) * t / 4), x + 20, y + h * t / 4 + 4);
  // The unit under the bar, broken into lines that fit beside the image.
  let line = "", row = 0;
  for (const word of (unit || "a.u.").split(" ")) {
    if (line && ctx.measureText(line + " " + word).width > 80) { ctx.fillText(line, x, y + h + 18 + 13 * row++); line = word; }
    else line = line ? line + " " + word : word;
  }
  ctx.fillText(line, x, y + h + 18 + 13 * row);
}

function drawImage() {
  const im = state.image, canvas = document.getElementById("image"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const is3d = im.planes.length > 1;
  document.getElementById("view3d").style.display = is3d ? "" : "none";
  if (!is3d) {
    const { H } = drawPlane(ctx, im.planes[0], 56, 24, 480, im.low, im.high);
    drawColourBar(ctx, 56 + 480 + 20, 24, H, im.low, im.high, im.unit);
  } else {
    const planes = state.mode === "mip" ? im.planes.slice(3) : im.planes.slice(0, 3);
    const cell = 230, spots = [[56, 24], [56 + cell + 60, 24], [56, 24 + cell + 56]];
    planes.forEach((p, i) => drawPlane(ctx, p, spots[i][0], spots[i][1], cell, im.low, im.high));
    drawColourBar(ctx, 56 + cell + 60, 24 + cell + 56, cell, im.low, im.high, im.unit);
  }
  document.getElementById("image-caption").textContent =
    `scan ${im.scanID}, frame ${im.frame}, ${im.size.join(" x ")} voxels, ${fmt(im.low)} to ${fmt(im.high)} ${im.unit || "a.u."}` +
    (is3d ? `, brightest voxel at ${im.brightest.join(", ")}` : "");
  state.imagesShown++;
}

function plot(canvas, ys, xs, opts) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, L = 68, B = 26, T = 18, R = 8;
  ctx.clearRect(0, 0, W, H);
  let lo = Infinity, hi = -Infinity;
  for (const v of ys) if (isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (opts.floor !== undefined) lo = Math.max(lo, hi - opts.floor);
  if (!(hi > lo)) { hi = lo + 1; }
  const X = i => L + (W - L - R) * (xs ? (xs[i] - xs[0]) / (xs[xs.length - 1] - xs[0] || 1) : i / (ys.length - 1 || 1));
  const Y = v => T + (H - T - B) * (1 - (Math.max(lo, v) - lo) / (hi - lo));
  ctx.strokeStyle = "#2c3038"; ctx.strokeRect(L, T, W - L - R, H - T - B);
  if (opts.marks) {   // short ticks along the top, one colour per drive channel
    const colours = ["#ffb347", "#ff6bd6", "#7bd88f"];
    opts.marks.forEach(([m, channel]) => {
      const x = L + (W - L - R) * m; ctx.strokeStyle = colours[channel % colours.length];
      ctx.beginPath(); ctx.moveTo(x, T); ctx.lineTo(x, T + 8 + 4 * channel); ctx.stroke();
    });
  }
  ctx.strokeStyle = "#8ab4ff"; ctx.beginPath();
  const columns = W - L - R;
  if (ys.length <= 8 * columns) {
    ys.forEach((v, i) => i ? ctx.lineTo(X(i), Y(v)) : ctx.moveTo(X(i), Y(v)));
  } else {   // a long trace (a 3D scanner's period): one path through each pixel column's minimum and maximum
    for (let c = 0; c < columns; c++) {
      let a = Infinity, b = -Infinity;
      for (let i = Math.floor(c * ys.length / columns); i < Math.floor((c + 1) * ys.length / columns); i++) { a = Math.min(a, ys[i]); b = Math.max(b, ys[i]); }
      if (c === 0) ctx.moveTo(L, Y(a));
      ctx.lineTo(L + c + 0.5, Y(a)); ctx.lineTo(L + c + 0.5, Y(b));
    }
  }
  ctx.stroke();
  ctx.fillStyle = "#9aa0aa"; ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "right";
  ctx.fillText(fmt(hi), L - 4, T + 8); ctx.fillText(fmt(lo), L - 4, H - B);
  ctx.textAlign = "center"; ctx.fillText(opts.xlabel, L + (W - L - R) / 2, H - 6);
  ctx.textAlign = "left"; ctx.fillText(opts.ylabel, 2, 11);
}

function drawSignal() {
  const s = state.signal, c = Math.min(state.channel, s.channels - 1);
  const trace = floats(s.signals[c]), spectrum = floats(s.spectraDecibels[c]);
  const times = Array.from(trace, (_, i) => i / s.samplingRate * 1e6);
  plot(document.getElementById("signal"), trace, times, { xlabel: "time / µs (first period)", ylabel: s.unit });
  const top = spectrum.length - 1, marks = [];
  s.driveFrequencies.forEach((f, d) => { for (let k = 1; k * f / s.binHz <= top && k <= 200; k++) marks.push([k * f / s.binHz / top, d]); });
  plot(document.getElementById("spectrum"), spectrum, Array.from(spectrum, (_, i) => i * s.binHz / 1e3),
       { xlabel: "frequency / kHz", ylabel: "dB", floor: 120, marks });
  document.getElementById("signal-caption").textContent =
    `frame ${s.frame}${s.background ? " (background)" : ""}, channel ${c + 1} of ${s.channels}, ${s.samples} samples`;
  const channels = document.getElementById("channels");
  if (channels.childElementCount !== s.channels) {
    channels.innerHTML = Array.from({ length: s.channels }, (_, i) =>
      `<label><input type="radio" name="ch" value="${i}" ${i === state.channel ? "checked" : ""}> channel ${i + 1}</label>`).join("");
  }
}

function setText(element, text) { if (element.textContent !== text) element.textContent = text; }

function showStatus(st) {
  setText(document.getElementById("version"), "magpie " + st.version);
  const open = st.openScan;
  setText(document.getElementById("scan"), open
    ? `scan ${open.scanID}: ${open.framesReceived} of ${open.framesPlanned} frames received` : "no scan open");
  document.getElementById("progress").style.width = open ? Math.min(100, 100 * open.framesReceived / Math.max(1, open.framesPlanned)) + "%" : "0";
  // The table is built once and its cells changed in place, only where the text changes (less layout and paint).
  const table = document.getElementById("counters");
  if (!table.rows.length) table.innerHTML = Object.keys(COUNTERS).map(k =>
    `<tr data-counter="${k}"><td>${COUNTERS[k]}</td><td class="n"></td><td class="n dim"></td></tr>`).join("");
  for (const row of table.rows) {
    const k = row.dataset.counter, v = st.counters[k] || 0;
    setText(row.cells[1], String(v));
    setText(row.cells[2], st.rates[k] !== undefined ? st.rates[k].toFixed(0) + " /s" : "");
    row.classList.toggle("warn", v > 0 && (BAD.includes(k) || k === "skipped"));
  }
  setText(document.getElementById("rates"), `queue: ${st.queueFrames} frames waiting` +
    (st.lastScan ? `; last file ${st.lastScan.file}, ${Math.round(st.lastScan.ageSeconds)} s ago` : ""));
  const bad = BAD.filter(k => st.counters[k] > 0).map(k => `${st.counters[k]} ${COUNTERS[k]}`);
  const w = document.getElementById("warning");
  const warning = bad.length ? "Frames are being lost or refused: " + bad.join(", ") + ". See the daemon's log."
    : st.counters.skipped > 0 ? `${st.counters.skipped} frames skipped by the live images to keep up (all archived; imaged after the scan).` : "";
  w.className = bad.length ? "bad" : "";
  w.style.display = warning ? "block" : "none";
  setText(w, warning);
  setText(document.getElementById("chain"), st.chain.map(s => {
    const { stage, ...rest } = s; const keys = Object.entries(rest).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
    return stage + (keys.length ? "  (" + keys.join(", ") + ")" : "");
  }).join("\n"));
  const c = st.config;
  setText(document.getElementById("config"), `input ${c.endpoint} (${c.socket}${c.bind ? ", bound" : ""}); output ${c.directory}; durability ${c.durability}`);
}

async function loadScans() {
  const r = await fetch("/api/scans?limit=25");
  if (!r.ok) return;
  const page = await r.json();
  document.querySelector("#scans tbody").innerHTML = page.scans.map(s => {
    const name = encodeURIComponent(s.name), frames = s.summary ? s.summary.frames : "";
    const thumb = s.images > 0 ? `<img class="thumb" alt="" src="/api/scans/${name}/image/-1.png?size=48&colourbar=0">` : "";
    return `<tr data-scan="${esc(s.name)}"><td>${thumb}</td><td>${esc(s.name)}</td><td>${esc(s.status || (s.error ? "unreadable: " + s.error : ""))}</td>` +
      `<td class="n">${frames}</td><td class="n">${s.images}</td><td class="n">${bytes(s.bytes)}</td><td>${esc(s.modified)}</td>` +
      `<td><a href="/api/scans/${name}/file" download="${esc(s.name)}">download</a></td></tr>`;
  }).join("");
  document.getElementById("scans-note").textContent = page.total > page.scans.length ? `newest ${page.scans.length} of ${page.total}` : `${page.total} files`;
}

// Drawing happens in the browser's next frame after news arrives, once however much arrived: nothing runs while nothing changes.
let drawScheduled = false;
function redraw(what) {
  state.dirty[what] = true;
  if (!drawScheduled) { drawScheduled = true; requestAnimationFrame(draw); }
}
function draw() {
  drawScheduled = false;
  if (state.dirty.image && state.image) { state.dirty.image = false; drawImage(); }
  if (state.dirty.signal && state.signal) { state.dirty.signal = false; drawSignal(); }
}

function connect() {
  const live = new EventSource("/api/live");
  const conn = document.getElementById("conn");
  live.onopen = () => { conn.textContent = "live"; conn.className = "ok"; };
  live.onerror = () => { conn.textContent = "reconnecting"; conn.className = "bad"; };
  live.addEventListener("image", e => { state.image = JSON.parse(e.data); redraw("image"); });
  live.addEventListener("signal", e => { state.signal = JSON.parse(e.data); redraw("signal"); });
  live.addEventListener("status", e => showStatus(JSON.parse(e.data)));
  live.addEventListener("scan", e => { if (JSON.parse(e.data).kind === "written") loadScans(); });
}

document.addEventListener("change", e => {
  if (e.target.name === "ch") { state.channel = Number(e.target.value); redraw("signal"); }
  if (e.target.name === "v3") { state.mode = e.target.value; redraw("image"); }
});
document.getElementById("login-form").addEventListener("submit", e => {
  e.preventDefault();
  const t = document.getElementById("token").value.trim();
  document.cookie = `magpie_token=${t}; path=/; SameSite=Strict${location.protocol === "https:" ? "; Secure" : ""}`;
  location.reload();
});

(async () => {
  const r = await fetch("/api/status");
  if (r.status === 401 || r.status === 403) {
    document.getElementById("main").style.display = "none";
    document.getElementById("login").style.display = "block";
    if (r.status === 403) document.getElementById("login-error").textContent = "That token was wrong.";
    return;
  }
  showStatus(await r.json());
  loadScans();
  connect();
})();
</script>
</body>
</html>
"""#
}
