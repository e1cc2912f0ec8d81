// GMM Explorer's Explore-page figures, drawn in the browser with Plotly.js.
//
// The server sends compact payloads (dashboard/binary_payload.py): the drawn points once
// per data set, then per fit only what moves — per shown iteration the point colours,
// each component's ellipse centre and 1-sigma axes — and the curves. Frames, ellipse
// outlines and mean paths are made here, so an animation is replayed, scrubbed and
// restyled without the server, stepped in halves, and where a user places a start or
// draws points the view sends them back as triggers. Two views: "animation" (the fit
// across iterations) and "panels" (final fits side by side: ours and scikit-learn's).
//
// Used as a Streamlit component (the default export, see dashboard/fit_component.py) and
// in the offline HTML export (mountStandalone, see dashboard/exports.py).

// The same version stamp as this module's address (dashboard/assets.py).
const PLOTLY_URL = new URL(`plotly.min.js${new URL(import.meta.url).search}`, import.meta.url).href;
const ELLIPSE_VERTICES = 41;
const CIRCLE = Array.from({ length: ELLIPSE_VERTICES }, (_, i) => 2 * Math.PI * i / (ELLIPSE_VERTICES - 1));
const TYPED = { f4: Float32Array, f8: Float64Array, u1: Uint8Array, u2: Uint16Array, i4: Int32Array, u4: Uint32Array };
// No "Share chart" button: it would upload the figure, data and all, to Plotly's cloud.
const PLOT_CONFIG = { displaylogo: false, showSendToCloud: false, responsive: true };
const MEAN_HOVER = "component %{customdata}<br>(%{x:.4g}, %{y:.4g})<extra></extra>";
const SPEEDS = [["slow", 600], ["normal", 150], ["fast", 40]];
// The animation's traces that move from one iteration to the next (besides the points).
const MOVING_TRACE = /^(component \d+ (ellipses|path)|means|current .*)$/;
const KEPT_POINT_SETS = 4;

// Point sets by id, shared by every view on the page: a panel draws the points the
// animation received, and a new fit of the same data does not bring them again.
const pointSets = (globalThis.gmmExplorerPointSets ??= new Map());
const pointWaiters = (globalThis.gmmExplorerPointWaiters ??= new Map());
const views = new WeakMap();

// ------------------------------------------------------------------ loading
let plotlyLoading = null;

function loadPlotly() {
  // Streamlit's page may have loaded plotly.js already (dashboard/assets.py).
  globalThis.gmmExplorerPlotly ??= window.Plotly;
  if (globalThis.gmmExplorerPlotly) return Promise.resolve(globalThis.gmmExplorerPlotly);
  plotlyLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = PLOTLY_URL;
    script.onload = () => {
      performance.mark("gmm-plotly-loaded"); // for profiling (benchmarks/bench_browser.py)
      resolve((globalThis.gmmExplorerPlotly = window.Plotly));
    };
    script.onerror = () => reject(new Error(`could not load ${PLOTLY_URL}`));
    document.head.appendChild(script);
  });
  return plotlyLoading;
}

// Fetching and compiling plotly.js is most of a first visit's wait: start at once.
loadPlotly().catch(() => {}); // a failure is reported by the first draw

function magic(bytes) {
  return String.fromCharCode(...bytes.subarray(0, 4));
}

/** ``{meta, arrays}`` from a payload; each array is ``{data: TypedArray, shape}``. */
async function unpack(payload) {
  let bytes = payload;
  if (magic(bytes) === "GMMZ") {
    const stream = new Blob([bytes.subarray(4)]).stream()
      .pipeThrough(new DecompressionStream("deflate"));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  } else {
    bytes = bytes.slice(); // own, aligned buffer: typed arrays need aligned offsets
  }
  if (magic(bytes) !== "GMMX") throw new Error("not a GMM Explorer payload");
  const length = new DataView(bytes.buffer).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  const start = Math.ceil((8 + length) / 8) * 8;
  const arrays = {};
  for (const [name, spec] of Object.entries(header.arrays)) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    arrays[name] = { data: new TYPED[spec.dtype](bytes.buffer, start + spec.offset, count), shape: spec.shape };
  }
  return { meta: header.meta, arrays };
}

// ------------------------------------------------------------------ geometry
/** Component j's ellipses at every sigma level, as one line with gaps between levels. */
function ellipses(centres, axes, j, levels) {
  const [cx, cy] = [centres[2 * j], centres[2 * j + 1]];
  const [a, b, c, d] = axes.subarray(4 * j, 4 * j + 4);
  const x = [], y = [];
  for (const s of levels) {
    for (const t of CIRCLE) {
      const [u, v] = [s * Math.cos(t), s * Math.sin(t)];
      x.push(cx + a * u + b * v);
      y.push(cy + c * u + d * v);
    }
    x.push(null);
    y.push(null);
  }
  return { x, y };
}

function frameSlice(array, f) {
  const size = array.shape.slice(1).reduce((a, b) => a * b, 1);
  return array.data.subarray(f * size, (f + 1) * size);
}

function axis(title, range, extra = {}) {
  return { title: { text: title }, range, automargin: true, ...extra };
}

// ------------------------------------------------------------------ layout: scale and size
// Data-space axes true to scale (as dashboard/figures.py data_axes): the y axis tied to
// the x axis, so one unit is as long on both at any size of the frame, Plotly widening
// one range to keep the data in view; "fill" stretches the data to the frame.
function dataAxes(meta) {
  if (meta.aspect === "fill") return [{}, {}];
  return [{ constrain: "range" }, { scaleanchor: "x", scaleratio: 1, constrain: "range" }];
}

// Plotly widens one range of a true-to-scale plot to keep its scale. Given the payload's
// ranges again on the next frame it would widen them again and redraw every trace (4x
// slower playback); given back the ranges it drew (or the user zoomed to), it only
// restyles. ``key`` names the frame's size and data: a new one starts from the payload's.
function keepDrawnRanges(gd, layout, key) {
  if (layout.yaxis.scaleanchor && gd.gmmRangesKey === key && gd.layout?.xaxis?.range) {
    layout.xaxis.range = [...gd.layout.xaxis.range];
    layout.yaxis.range = [...gd.layout.yaxis.range];
  }
  gd.gmmRangesKey = key;
  return layout;
}

// Plotly fits the margins to the axes' labels once it has drawn them and, when they differ
// from the layout's, draws the whole figure again: on every step, as each draw started
// from the layout's 10 px (half of a step's drawing). A new fit drawn in the same frame
// (``key``: its size and data) starts from the margins the last one ended with, so the
// second pass runs only when its labels need more room.
// The browser keeps the margins of the last few views it drew too (localStorage), by their
// data alone (``view``): a new tab's first draw comes before its page has settled, at
// whatever size the plot has then. It starts a few pixels wider than they were, as
// another size or another tab's fonts can make a label a few pixels wider; margins wide
// enough are kept as they are, so the draw is one pass (too narrow: two, as without).
function keepDrawnMargins(gd, layout, key, view) {
  const size = gd.gmmMarginsKey === key ? gd._fullLayout?._size : widened(storedMargins()[view]);
  if (size) layout.margin = { ...layout.margin, l: size.l, r: size.r, t: size.t, b: size.b };
  gd.gmmMarginsKey = key;
  gd.gmmMarginsView = view;
  return layout;
}

const MARGINS_STORE = "gmm-explorer-margins";
const STORED_MARGINS = 20;
const MARGIN_SLACK = 3; // px

function widened(margins) {
  return margins && Object.fromEntries(Object.entries(margins).map(([side, px]) => [side, px + MARGIN_SLACK]));
}

function storedMargins() {
  try {
    return JSON.parse(localStorage.getItem(MARGINS_STORE)) ?? {};
  } catch {
    return {}; // storage blocked or unreadable: margins are found by drawing
  }
}

// Kept once per view: the margins of a draw that started from the layout's own, not
// from stored ones widened again.
function rememberMargins(gd) {
  const size = gd._fullLayout?._size;
  const stored = storedMargins();
  if (!size || !gd.gmmMarginsView || gd.gmmMarginsView in stored) return;
  const kept = Object.entries(stored).slice(1 - STORED_MARGINS);
  try {
    localStorage.setItem(MARGINS_STORE, JSON.stringify(Object.fromEntries(
      [...kept, [gd.gmmMarginsView, { l: size.l, r: size.r, t: size.t, b: size.b }]])));
  } catch {
    // storage full or blocked: the next tab draws its margins itself
  }
}

const MIN_PLOT_HEIGHT = 300;
const FOLD_GAP = 8; // between the controls under the plot and the window's bottom edge

function scrollParent(element) {
  for (let e = element.parentElement; e; e = e.parentElement) {
    if (/(auto|scroll)/.test(getComputedStyle(e).overflowY)) return e;
  }
  return document.scrollingElement;
}

// The plot's height: ``wanted``, or less when the window is shorter, so that the plot and
// the controls under it (``root``'s rest) are on screen when the page is at its top.
function fittedHeight(root, plot, wanted) {
  const box = plot.getBoundingClientRect();
  const topAtRest = box.top + scrollParent(plot).scrollTop;
  const below = root.getBoundingClientRect().bottom - box.bottom;
  const room = window.innerHeight - topAtRest - below - FOLD_GAP;
  return Math.round(Math.max(MIN_PLOT_HEIGHT, Math.min(wanted, room)));
}

// Plotly's ``responsive`` follows the window only; the figure's column also changes width
// when the sidebar opens or closes. ``onResize`` runs once per change of width.
function followWidth(root, onResize) {
  let width = root.clientWidth, frame = 0;
  new ResizeObserver(() => {
    if (root.clientWidth === width) return;
    width = root.clientWidth;
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(onResize);
  }).observe(root);
}

// ------------------------------------------------------------------ the animation
// The colour of each blend code (dashboard/figures.py blend_codes): 0 for a point no
// component claims, else 1 + j * levels + level, component j's colour blended with white
// from ``palest`` of it (level 0) to full (the last level). Made once per palette.
const blendScales = new Map();

function hexRgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

function blendColorscale(palette, levels, palest) {
  const key = `${palette.join()}/${levels}/${palest}`;
  if (!blendScales.has(key)) {
    const colours = ["rgb(0,0,0)"];
    for (const hex of palette) {
      const rgb = hexRgb(hex);
      for (let level = 0; level < levels; level++) {
        const tint = palest + (1 - palest) * level / (levels - 1);
        colours.push(`rgb(${rgb.map((c) => Math.round(255 + tint * (c - 255))).join(",")})`);
      }
    }
    blendScales.set(key, colours.map((colour, code) => [code / (colours.length - 1), colour]));
  }
  return blendScales.get(key);
}

function pointMarker(meta) {
  if (meta.color_by === "responsibility") {
    const scale = blendColorscale(meta.palette, meta.blend_levels, meta.palest);
    return { size: meta.marker_size, opacity: 0.8, colorscale: scale, cmin: 0, cmax: scale.length - 1 };
  }
  return { size: meta.marker_size, opacity: 0.8, colorscale: "Viridis", cmin: 0, cmax: meta.uncertainty_max,
           showscale: true, colorbar: { title: { text: "uncertainty" }, x: 0.555, thickness: 12, len: 0.9 } };
}

// Points no component claims (code 0) are crosses, not dots: black is also a colour of
// Okabe and Ito's set. The noise component's points (codes from ``noise_code``) are open
// grey circles: both palettes also hold a grey.
function pointSymbols(meta, colours) {
  const noise = meta.noise_code ?? Infinity;
  if (meta.color_by !== "responsibility" || (!colours.includes(0) && noise === Infinity)) return "circle";
  return Array.from(colours, (code) => (code === 0 ? "x-thin-open" : code >= noise ? "circle-open" : "circle"));
}

// Playback's points, recoloured in place: between two iterations only some of the
// points change colour, yet Plotly restyles every one of them (1,000 SVG points: most of
// a "fast" frame). Here each drawn point whose colour code changed takes that code's
// colour on the scale (the colour Plotly gives it: the codes sit on the scale's stops),
// and the code is noted on Plotly's data of the drawn point, which the next frame
// compares with. The trace's colour array becomes the frame's, so what Plotly computes
// from it (hover labels, a redraw after a zoom, with fresh data on the points) agrees.
// Colours by responsibility only, with no point drawn or to be drawn as a cross (code 0:
// another symbol); else false, and Plotly restyles the points.
function recolourPoints(gd, meta, marker) {
  if (meta.color_by !== "responsibility" || marker.symbol !== "circle"
      || gd._fullData?.[0]?.marker?.symbol !== "circle") return false;
  const layer = Array.from(gd.querySelectorAll(".scatterlayer .trace"))
    .find((group) => group.__data__?.[0]?.trace?.index === 0);
  if (!layer) return false;
  const colours = blendColorscale(meta.palette, meta.blend_levels, meta.palest).map(([, colour]) => colour);
  for (const node of layer.querySelectorAll("path.point")) {
    const point = node.__data__, code = marker.color[point.i];
    if (point.mc === code) continue;
    point.mc = code;
    point.mcc = colours[code];
    node.style.fill = colours[code];
  }
  gd.data[0].marker.color = marker.color;
  return true;
}

function frameColors(payload, f) {
  const codes = frameSlice(payload.arrays.colors, f);
  // Uncertainty arrives as bytes (0-255 for 0-1).
  return payload.meta.color_by === "responsibility" ? codes : Array.from(codes, (q) => q / 255);
}

// What a view of the fit shows: the parameters of frame ``f`` coloured by the
// responsibilities they give, or (``half``) the M-step that follows, drawn before the
// next E-step: frame f+1's parameters over frame f's colours.
function stateOf(payload, f, half) {
  return { params: half ? f + 1 : f, colours: f, half };
}

function animationTraces(payload, points, state) {
  const { meta, arrays } = payload;
  const k = meta.k, palette = meta.palette, p = state.params;
  const centres = frameSlice(arrays.centres, p), axes = frameSlice(arrays.axes, p);
  const t = arrays.iterations.data[p];
  const colours = frameColors(payload, state.colours);
  const traces = [{
    type: "scatter", mode: "markers", name: "data", hoverinfo: "x+y", x: points.x, y: points.y,
    marker: { ...pointMarker(meta), color: colours, symbol: pointSymbols(meta, colours) },
  }];
  for (let j = 0; j < k; j++) {
    traces.push({ type: "scatter", mode: "lines", name: `component ${j} ellipses`, hoverinfo: "skip",
                  line: { color: palette[j], width: 1.5 }, ...ellipses(centres, axes, j, meta.sigma_levels) });
  }
  const allCentres = arrays.centres.data;
  for (let j = 0; j < k; j++) {
    const x = [], y = [];
    for (let g = 0; g <= p; g++) {
      x.push(allCentres[(g * k + j) * 2]);
      y.push(allCentres[(g * k + j) * 2 + 1]);
    }
    traces.push({ type: "scatter", mode: "lines", name: `component ${j} path`, hoverinfo: "skip",
                  line: { color: palette[j], width: 1.5, dash: "dot" }, x, y });
  }
  traces.push({
    type: "scatter", mode: "markers", name: "means", customdata: [...Array(k).keys()], hovertemplate: MEAN_HOVER,
    x: Array.from({ length: k }, (_, j) => centres[2 * j]), y: Array.from({ length: k }, (_, j) => centres[2 * j + 1]),
    marker: { color: palette.slice(0, k), size: meta.mean_size, symbol: "x", line: { color: "black", width: 1 } },
  });
  traces.push(...curveTraces(payload, t));
  // The start placed by hand: being clicked, just sent, or the one this fit began from.
  const start = state.placing ?? state.sent
    ?? (meta.placed_start ? Array.from({ length: k }, (_, j) => [allCentres[2 * j], allCentres[2 * j + 1]]) : null);
  if (start) {
    traces.push({
      type: "scatter", mode: "markers", name: "placed start", hoverinfo: "x+y",
      x: start.map((p) => p[0]), y: start.map((p) => p[1]),
      marker: { symbol: "circle-open", size: 2.5 * meta.mean_size, color: "black", line: { width: 2 } },
    });
  }
  return traces;
}

// Beside the data: the log-likelihood (events marked on it) and the lower curve, each
// with the iteration ``t`` shown.
function curveTraces(payload, t) {
  const { meta, arrays } = payload;
  const iterations = [...Array(meta.n_iter + 1).keys()];
  const ll = arrays.log_likelihood.data, second = arrays.second.data;
  const traces = [
    { type: "scatter", mode: "lines", name: "log-likelihood", x: iterations, y: Array.from(ll),
      line: { color: "#444" }, xaxis: "x2", yaxis: "y2" },
    { type: "scatter", mode: "lines", name: meta.second_title, x: iterations, y: Array.from(second),
      line: { color: "#444" }, xaxis: "x3", yaxis: "y3" },
    { type: "scatter", mode: "markers", name: "current log-likelihood", x: [t], y: [ll[t]],
      marker: { color: "crimson", size: 10 }, hoverinfo: "x+y", xaxis: "x2", yaxis: "y2" },
    { type: "scatter", mode: "markers", name: `current ${meta.second_title}`, x: [t], y: [second[t]],
      marker: { color: "crimson", size: 10 }, hoverinfo: "x+y", xaxis: "x3", yaxis: "y3" },
  ];
  if (meta.events.length) {
    traces.push({
      type: "scatter", mode: "markers", name: "events", xaxis: "x2", yaxis: "y2", hoverinfo: "text",
      x: meta.events.map((e) => e.iteration), y: meta.events.map((e) => ll[e.iteration]),
      hovertext: meta.events.map((e) => e.text),
      marker: { symbol: "diamond-open", size: 11, color: "darkorange", line: { width: 2 } },
    });
  }
  return traces;
}

function animationLayout(meta, state) {
  const title = meta.titles[state.params] + (state.half ? " · M-step (colours from the last E-step)" : "");
  return {
    height: meta.height, showlegend: false, hovermode: "closest", font: { size: meta.font_size },
    margin: { l: 10, r: 10, t: 50, b: 40, autoexpand: true },
    dragmode: state.placing ? false : "zoom", // a click places a point instead of zooming
    title: { text: title },
    xaxis: axis(meta.x_title, meta.x_range, { domain: [0, 0.55], anchor: "y", ...dataAxes(meta)[0] }),
    yaxis: axis(meta.y_title, meta.y_range, { domain: [0, 1], anchor: "x", ...dataAxes(meta)[1] }),
    xaxis2: { domain: [0.7, 1], anchor: "y2" },
    yaxis2: { domain: [0.57, 1], anchor: "x2", title: { text: "log-likelihood" }, automargin: true },
    xaxis3: { domain: [0.7, 1], anchor: "y3", matches: "x2", title: { text: "iteration" } },
    yaxis3: { domain: [0, 0.43], anchor: "x3", type: meta.second_axis, exponentformat: "power",
              title: { text: meta.second_title }, automargin: true },
  };
}

// ------------------------------------------------------------------ one feature
// A fit of one feature (meta.n_dims === 1): the histogram of the data (sent once per
// fit), each component's weighted density and the mixture's, evaluated here per frame
// from each component's weight, mean and variance; the drawn points in a strip under the
// axis, coloured as the 2-D view colours them.
const DENSITY_HOVER = "component %{customdata}<br>mean %{x:.4g}<extra></extra>";

function densityGrid(meta) {
  const [low, high] = meta.x_range, n = meta.grid_size;
  return Array.from({ length: n }, (_, i) => low + (high - low) * i / (n - 1));
}

function normalDensity(x, weight, mean, variance) {
  return weight * Math.exp(-0.5 * (x - mean) ** 2 / variance) / Math.sqrt(2 * Math.PI * variance);
}

function histogramTrace(arrays) {
  const edges = arrays.hist_edges.data, density = arrays.hist_density.data;
  return {
    type: "bar", name: "histogram", hovertemplate: "%{x:.4g}: density %{y:.4g}<extra></extra>",
    x: Array.from(density, (_, i) => (edges[i] + edges[i + 1]) / 2), y: Array.from(density),
    width: Array.from(density, (_, i) => edges[i + 1] - edges[i]),
    marker: { color: "rgba(120,120,120,0.35)", line: { color: "rgba(80,80,80,0.6)", width: 1 } },
  };
}

// Each component's weighted density, the mixture's, and each mean on its curve.
function densityTraces(meta, grid, weights, means, variances, palette) {
  const k = weights.length, mixture = new Float64Array(grid.length), traces = [];
  for (let j = 0; j < k; j++) {
    const y = grid.map((x) => normalDensity(x, weights[j], means[j], variances[j]));
    y.forEach((v, i) => { mixture[i] += v; });
    traces.push({ type: "scatter", mode: "lines", name: `component ${j} density`, hoverinfo: "skip",
                  x: grid, y, line: { color: palette[j], width: 2 } });
  }
  traces.push(
    { type: "scatter", mode: "lines", name: "mixture density", x: grid, y: Array.from(mixture),
      hovertemplate: "%{x:.4g}: mixture density %{y:.4g}<extra></extra>", line: { color: "black", width: 2.5 } },
    { type: "scatter", mode: "markers", name: "means", customdata: [...Array(k).keys()], hovertemplate: DENSITY_HOVER,
      x: Array.from(means), y: Array.from(means, (m, j) => normalDensity(m, weights[j], m, variances[j])),
      marker: { color: palette.slice(0, k), size: meta.mean_size, symbol: "x", line: { color: "black", width: 1 } } },
  );
  return traces;
}

// The drawn points in the strip under the axis, spread over its height (a fixed
// scatter, so points at the same value stay apart).
function rugTrace(meta, points, marker) {
  const depth = -meta.y_range[0];
  const y = Array.from(points.x, (_, i) => -depth * (0.15 + 0.7 * ((i * 0.6180339887) % 1)));
  return { type: "scatter", mode: "markers", name: "data", hoverinfo: "x", x: points.x, y, marker };
}

function densityAxes(meta, xDomain) {
  return {
    xaxis: axis(meta.x_title, meta.x_range, { domain: xDomain, anchor: "y" }),
    yaxis: axis(meta.y_title, meta.y_range, { domain: [0, 1], anchor: "x", zeroline: true }),
  };
}

function densityFigure(payload, points, state) {
  const { meta, arrays } = payload;
  const p = state.params, k = meta.k;
  payload.grid ??= densityGrid(meta);
  const slice = (name) => arrays[name].data.subarray(p * k, (p + 1) * k);
  const traces = [
    histogramTrace(arrays),
    ...densityTraces(meta, payload.grid, slice("weights"), slice("means"), slice("variances"), meta.palette),
    rugTrace(meta, points, { ...pointMarker(meta), color: frameColors(payload, state.colours) }),
    ...curveTraces(payload, arrays.iterations.data[p]),
  ];
  const layout = { ...animationLayout(meta, state), ...densityAxes(meta, [0, 0.55]), bargap: 0 };
  return [traces, layout];
}

function densityPanelFigure(payload, points, i) {
  const { meta, arrays } = payload;
  const panel = meta.panels[i], labels = arrays[`labels_${i}`].data;
  payload.grid ??= densityGrid(meta);
  const traces = [
    histogramTrace(arrays),
    ...densityTraces(meta, payload.grid, arrays[`weights_${i}`].data, arrays[`means_${i}`].data,
                     arrays[`variances_${i}`].data, panel.palette),
    rugTrace(meta, points, { size: meta.marker_size, opacity: 0.8, color: Array.from(labels, (j) => panel.palette[j]) }),
  ];
  return [traces, { ...densityAxes(meta, [0, 1]), bargap: 0 }];
}

const ANIMATION_HTML = `
  <div class="gmm-plot"></div>
  <div class="gmm-controls">
    <button type="button" class="gmm-play" title="Play from the start (space)">Play</button>
    <button type="button" class="gmm-previous" title="Previous iteration (←)" aria-label="previous iteration">◀</button>
    <button type="button" class="gmm-m-step" title="The next M-step: new means and covariances from the colours shown (m)">M-step</button>
    <button type="button" class="gmm-e-step" title="The next E-step: new colours from the means and covariances shown (e)">E-step</button>
    <button type="button" class="gmm-next" title="Next iteration (→)" aria-label="next iteration">▶</button>
    <input type="range" class="gmm-scrub" min="0" max="0" step="1" value="0" aria-label="iteration">
    <span class="gmm-iteration" aria-live="polite"></span>
    <label class="gmm-speed-label">speed
      <select class="gmm-speed">${SPEEDS.map(([name, ms]) => `<option value="${ms}">${name}</option>`).join("")}</select>
    </label>
  </div>
  <div class="gmm-controls gmm-start-controls">
    <button type="button" class="gmm-place" title="Click one point per component on the plot: EM starts from them">Place start</button>
    <span class="gmm-placing" hidden>
      <span class="gmm-placing-text" aria-live="polite"></span>
      <button type="button" class="gmm-undo">Undo</button>
      <button type="button" class="gmm-cancel">Cancel</button>
    </span>
    <button type="button" class="gmm-clear-start" hidden title="Go back to the start chosen in the sidebar">Clear placed start</button>
    <span class="gmm-sketch" hidden>
      <button type="button" class="gmm-draw" aria-pressed="false"
        title="Add points: click for a cloud at the pointer, or drag a shape to fill it">Draw points</button>
      <label class="gmm-draw-shape-label" hidden>drag draws a
        <select class="gmm-draw-shape"><option value="select">box</option><option value="lasso">lasso</option></select>
      </label>
    </span>
  </div>`;

// Keys that drive the animation when the page's focus is not in a field.
const SHORTCUTS = { " ": "togglePlay", ArrowRight: "next", ArrowLeft: "previous", e: "eStep", m: "mStep" };

function typingIn(target) {
  return target instanceof HTMLElement
    && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

// Where a click on the plot falls in the data's coordinates, or null outside the axes
// (Plotly's own axis conversions).
function dataCoordinates(gd, event) {
  const { xaxis, yaxis } = gd._fullLayout;
  const box = gd.getBoundingClientRect();
  const px = event.clientX - box.left - xaxis._offset, py = event.clientY - box.top - yaxis._offset;
  if (px < 0 || py < 0 || px > xaxis._length || py > yaxis._length) return null;
  return [xaxis.p2d(px), yaxis.p2d(py)];
}

// ------------------------------------------------------------------ keyboard and screen readers
// The figure takes the focus (a click on it, or the page's "Skip to the figure" link) and
// then its keys step it whatever was focused before (a sidebar slider, say). While a start
// is placed or points drawn, the arrows move a cross and Enter places a point there.
// A screen reader hears the iteration, k and log-likelihood as the figure's name, and
// "Show as table" lists each component's weight, mean and covariance.
const ANIMATION_PLOT = "[data-gmm-view=animation] .gmm-plot";
const KEYS_HELP = "Keys once the figure has the focus (click it or Tab to it): ← → step, m e "
  + "half-steps, space plays; placing or drawing: arrows move ✛, Enter places, Esc stops.";
const CURSOR_STEPS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
const TICK_FORMAT = ".6~g"; // at most 6 significant digits

function sixDigits(value) {
  return Number.isFinite(value) ? String(Number(value.toPrecision(6))) : String(value);
}

// Plotly's toolbar stays for the mouse; for the keyboard it would be ten stops between the
// figure and Play.
function untabModebar(plot) {
  for (const button of plot.querySelectorAll(".modebar a, .modebar button")) button.tabIndex = -1;
}

// One link for the page, first in its Tab order, gone with the figure.
function installSkipLink(root) {
  let link = document.querySelector(".gmm-skip-link");
  if (!link) {
    link = Object.assign(document.createElement("a"), { className: "gmm-skip-link", href: "#",
                                                        textContent: "Skip to the figure" });
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const plot = document.querySelector(ANIMATION_PLOT);
      plot?.scrollIntoView({ block: "center" });
      plot?.focus({ preventScroll: true });
    });
    document.body.prepend(link);
  }
  const watch = new MutationObserver(() => {
    if (root.isConnected) return;
    watch.disconnect();
    if (!document.querySelector(ANIMATION_PLOT)) link.remove();
  });
  watch.observe(document.body, { childList: true, subtree: true });
}

/** What the figure's name says: the shown iteration, k and the log-likelihood. */
function describeFigure(payload, state) {
  const { meta, arrays } = payload;
  const t = arrays.iterations.data[state.params];
  return `Gaussian mixture fit, iteration ${t} of ${meta.n_iter}${state.half ? " (M-step)" : ""}, `
    + `k = ${meta.k}, log-likelihood ${sixDigits(arrays.log_likelihood.data[t])}`;
}

// Ticks of at most 6 significant digits, and a log-likelihood curve flat to round-off gets
// a range those digits can tell apart (else every tick reads the same 19 digits).
function readableTicks(layout, payload) {
  const ll = Array.from(payload.arrays.log_likelihood.data).filter(Number.isFinite);
  for (const name of ["xaxis", "yaxis", "yaxis2"]) layout[name] = { ...layout[name], tickformat: TICK_FORMAT };
  if (payload.meta.second_axis !== "log") layout.yaxis3 = { ...layout.yaxis3, tickformat: TICK_FORMAT };
  if (!ll.length) return layout;
  const low = Math.min(...ll), high = Math.max(...ll), least = 1e-4 * Math.max(1, Math.abs(high));
  if (high - low < least) layout.yaxis2.range = [(low + high - least) / 2, (low + high + least) / 2];
  return layout;
}

/** The components at a state of the fit: weight, mean and covariance on the plotted axes;
 * then the noise component's weight, if the fit has one. */
function componentRows(payload, state) {
  const rows = gaussianRows(payload, state), noise = payload.arrays.noise_weights;
  if (!noise) return rows;
  return [...rows, { component: "noise", colour: payload.meta.palette[payload.meta.k],
                     weight: frameSlice(noise, state.params)[0], mean: [], covariance: [] }];
}

function gaussianRows(payload, state) {
  const { meta, arrays } = payload;
  const weights = frameSlice(arrays.weights, state.params);
  if (meta.n_dims === 1) {
    const means = frameSlice(arrays.means, state.params), variances = frameSlice(arrays.variances, state.params);
    return Array.from({ length: meta.k }, (_, j) => (
      { component: j, colour: meta.palette[j], weight: weights[j], mean: [means[j]], covariance: [variances[j]] }));
  }
  const centres = frameSlice(arrays.centres, state.params), axes = frameSlice(arrays.axes, state.params);
  return Array.from({ length: meta.k }, (_, j) => {
    const [a, b, c, d] = axes.subarray(4 * j, 4 * j + 4); // 1σ axes: covariance = A Aᵀ
    return { component: j, colour: meta.palette[j], weight: weights[j],
             mean: [centres[2 * j], centres[2 * j + 1]], covariance: [a * a + b * b, a * c + b * d, c * c + d * d] };
  });
}

const TABLE_HTML = `
  <p class="gmm-keys-help"></p>
  <div class="gmm-controls">
    <button type="button" class="gmm-table-toggle" aria-expanded="false">Show as table</button>
  </div>
  <div class="gmm-table-box" hidden>
    <table class="gmm-table">
      <caption></caption>
      <thead><tr><th scope="col">component</th><th scope="col">weight</th><th scope="col" class="gmm-mean-head"></th>
        <th scope="col" class="gmm-covariance-head"></th></tr></thead>
      <tbody></tbody>
    </table>
  </div>`;

class FigureAccess {
  constructor(view) {
    this.view = view;
    const { root, plot } = view;
    root.insertAdjacentHTML("beforeend", TABLE_HTML);
    const find = (name) => root.querySelector(`.gmm-${name}`);
    this.help = find("keys-help");
    this.help.id = `gmm-keys-help-${Math.random().toString(36).slice(2)}`;
    this.help.textContent = KEYS_HELP;
    this.tableBox = find("table-box");
    this.toggle = find("table-toggle");
    this.toggle.addEventListener("click", () => {
      this.tableBox.hidden = !this.tableBox.hidden;
      this.toggle.textContent = this.tableBox.hidden ? "Show as table" : "Hide table";
      this.toggle.setAttribute("aria-expanded", String(!this.tableBox.hidden));
      this.fillTable();
    });
    plot.tabIndex = 0;
    plot.setAttribute("role", "application"); // its keys reach it past a screen reader
    plot.setAttribute("aria-describedby", this.help.id);
    // Plotly keeps a press on the plot from focusing it.
    plot.addEventListener("pointerdown", () => plot.focus({ preventScroll: true }));
    plot.addEventListener("keydown", (event) => this.onKey(event));
    this.cursor = null;
    installSkipLink(root);
  }

  get active() {
    return Array.isArray(this.view.state?.placing) || this.view.drawing;
  }

  // The cross the arrows move, while it is in use.
  cursorTraces() {
    if (!this.active) this.cursor = null;
    if (!this.cursor) return [];
    return [{ type: "scatter", mode: "markers", name: "keyboard cursor", hoverinfo: "skip",
              x: [this.cursor[0]], y: [this.cursor[1]],
              marker: { symbol: "cross-thin-open", size: 24, color: "black", line: { width: 2, color: "black" } } }];
  }

  afterDraw() {
    const { plot, payload, state } = this.view;
    plot.setAttribute("aria-label", describeFigure(payload, state));
    untabModebar(plot);
    this.fillTable();
  }

  onKey(event) {
    if (!this.active || event.ctrlKey || event.metaKey || event.altKey) return;
    const view = this.view, placing = Array.isArray(view.state.placing);
    const { xaxis, yaxis } = view.plot._fullLayout;
    const [x0, x1] = xaxis.range, [y0, y1] = yaxis.range;
    this.cursor ??= [(x0 + x1) / 2, (y0 + y1) / 2];
    const move = CURSOR_STEPS[event.key];
    if (move) {
      const step = event.shiftKey ? 1 / 8 : 1 / 40;
      const clamp = (v, a, b) => Math.min(Math.max(v, Math.min(a, b)), Math.max(a, b));
      this.cursor = [clamp(this.cursor[0] + move[0] * step * (x1 - x0), x0, x1),
                     clamp(this.cursor[1] + move[1] * step * (y1 - y0), y0, y1)];
      view.show(view.state);
    } else if (event.key === "Enter") {
      if (view.drawing) view.report("sketch_add", { point: [...this.cursor] });
      else view.placeStep((points) => [...points, [...this.cursor]]);
    } else if (event.key === "Backspace" && placing) {
      view.placeStep((points) => points.slice(0, -1));
    } else if (event.key === "Escape") {
      if (placing) view.endPlacing();
      else view.setDrawing(false);
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation(); // not also a step of the animation
  }

  fillTable() {
    const { payload, state } = this.view;
    if (this.tableBox.hidden || !payload) return;
    const { meta, arrays } = payload;
    const t = arrays.iterations.data[state.params];
    this.tableBox.querySelector("caption").textContent =
      `Components at iteration ${t} of ${meta.n_iter}${state.half ? " (M-step)" : ""}, on the plotted features`;
    const oneFeature = meta.n_dims === 1;
    this.tableBox.querySelector(".gmm-mean-head").textContent =
      oneFeature ? `mean (${meta.x_title})` : `mean (${meta.x_title}, ${meta.y_title})`;
    this.tableBox.querySelector(".gmm-covariance-head").textContent =
      oneFeature ? "variance" : "covariance (var x, cov xy, var y)";
    const body = this.tableBox.querySelector("tbody");
    body.replaceChildren(...componentRows(payload, state).map((row) => {
      const tr = document.createElement("tr");
      const swatch = Object.assign(document.createElement("span"), { className: "gmm-swatch" });
      swatch.style.background = row.colour;
      const name = document.createElement("th");
      name.scope = "row";
      name.append(swatch, ` ${row.component}`);
      const cells = [sixDigits(row.weight), row.mean.map(sixDigits).join(", "),
                     row.covariance.map(sixDigits).join(", ")]
        .map((text) => Object.assign(document.createElement("td"), { textContent: text }));
      tr.append(name, ...cells);
      return tr;
    }));
  }
}

class AnimationView {
  constructor(root, Plotly, report) {
    this.root = root;
    this.Plotly = Plotly;
    root.classList.add("gmm-view", "gmm-animation");
    root.dataset.gmmView = "animation";
    root.innerHTML = ANIMATION_HTML;
    const find = (name) => root.querySelector(`.gmm-${name}`);
    this.plot = find("plot");
    this.label = find("iteration");
    this.scrub = find("scrub");
    this.speed = find("speed");
    this.buttons = { play: find("play"), previous: find("previous"), next: find("next"),
                     mStep: find("m-step"), eStep: find("e-step") };
    this.timer = null;
    this.report = report;
    this.startControls = { place: find("place"), placing: find("placing"), text: find("placing-text"),
                   undo: find("undo"), cancel: find("cancel"), clear: find("clear-start") };
    this.startControls.place.addEventListener("click", () => this.beginPlacing());
    this.startControls.undo.addEventListener("click", () => this.placeStep((points) => points.slice(0, -1)));
    this.startControls.cancel.addEventListener("click", () => this.endPlacing());
    this.startControls.clear.addEventListener("click", () => this.report("placed", []));
    this.sketch = { panel: find("sketch"), draw: find("draw"), shape: find("draw-shape"),
                    shapeLabel: find("draw-shape-label") };
    this.drawing = false;
    this.sketch.draw.addEventListener("click", () => this.setDrawing(!this.drawing));
    this.sketch.shape.addEventListener("change", () => this.show(this.state));
    this.plot.addEventListener("click", (event) => {
      const point = (Array.isArray(this.state?.placing) || this.drawing) && dataCoordinates(this.plot, event);
      if (!point) return;
      if (this.drawing) this.report("sketch_add", { point });
      else this.placeStep((points) => [...points, point]);
    });
    this.buttons.play.addEventListener("click", () => this.togglePlay());
    for (const action of ["previous", "next", "mStep", "eStep"]) {
      this.buttons[action].addEventListener("click", () => this[action]());
    }
    this.scrub.addEventListener("input", () => { this.stop(); this.show(stateOf(this.payload, Number(this.scrub.value), false)); });
    const onKey = (event) => {
      if (!this.plot.isConnected) return document.removeEventListener("keydown", onKey);
      const action = SHORTCUTS[event.key];
      if (!action || event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) return;
      event.preventDefault();
      this[action]();
    };
    document.addEventListener("keydown", onKey);
    this.access = new FigureAccess(this);
    this.followSize();
  }

  marginsView() {
    const { points_id: points, x_range: x, y_range: y, n_dims: dims } = this.payload.meta;
    return JSON.stringify([points, dims, x, y]);
  }

  marginsKey() {
    return JSON.stringify([this.marginsView(), this.plot.clientWidth, this.height]);
  }

  rangesKey() {
    const { fit_id: fit, x_range: x, y_range: y } = this.payload.meta;
    return JSON.stringify([fit, x, y, this.plot.clientWidth, this.height]);
  }

  // ---- layout: the plot fits the window's height and follows its column's width
  followSize() {
    const refit = () => {
      const drawn = this.plot._fullLayout;
      if (!this.payload || !drawn) return;
      this.height = fittedHeight(this.root, this.plot, this.payload.meta.height);
      const width = this.plot.clientWidth;
      if (drawn.width === width && drawn.height === this.height) return;
      const { x_range: x, y_range: y } = this.payload.meta;  // scaled anew for the new size
      this.plot.gmmRangesKey = this.rangesKey();
      this.Plotly.relayout(this.plot, { width, height: this.height, "xaxis.range": [...x], "yaxis.range": [...y] });
    };
    followWidth(this.root, refit);
    const onWindow = () => (this.root.isConnected ? refit() : window.removeEventListener("resize", onWindow));
    window.addEventListener("resize", onWindow);
  }

  get frames() {
    return this.payload.arrays.iterations.shape[0];
  }

  // Whether frame f+1 is the iteration right after frame f (so an M-step between
  // them is one EM half-step); later iterations are thinned out to fit the payload.
  consecutive(f) {
    const iterations = this.payload.arrays.iterations.data;
    return f + 1 < this.frames && iterations[f + 1] === iterations[f] + 1;
  }

  // Draws a new fit, opening on its last iteration; resolves to whether it drew. The
  // same fit again (a rerun that changed nothing it shows) leaves whatever iteration
  // the user is looking at.
  async update(payload, points) {
    if (this.payload?.meta.fit_id === payload.meta.fit_id) return false;
    this.stop();
    this.payload = payload;
    this.points = points;
    this.speed.value = String(payload.meta.frame_ms);
    if (!this.speed.value) this.speed.value = String(SPEEDS[1][1]);
    this.scrub.max = String(this.frames - 1);
    if (drawingCarriedOver && payload.meta.can_sketch) this.markDrawing(true);
    drawingCarriedOver = false;
    this.height = fittedHeight(this.root, this.plot, payload.meta.height);
    await this.show(stateOf(payload, this.frames - 1, false));
    return true;
  }

  // The iteration shown, in the controls under the figure.
  showPosition(state) {
    const { meta, arrays } = this.payload;
    this.state = state;
    this.scrub.value = String(state.colours);
    const t = arrays.iterations.data[state.params];
    this.label.textContent = `Iteration ${t} of ${meta.n_iter}` + (state.half ? " · M-step" : "");
    this.root.dataset.iteration = String(t);
    this.root.dataset.halfStep = state.half ? "M" : "";
    const f = state.colours;
    this.buttons.previous.disabled = f === 0 && !state.half;
    this.buttons.next.disabled = f === this.frames - 1;
    this.buttons.mStep.disabled = state.half || !this.consecutive(f);
    this.buttons.eStep.disabled = !state.half;
  }

  show(state) {
    const { meta } = this.payload;
    this.showPosition(state);
    const placing = Array.isArray(state.placing);
    const canPlace = meta.can_place && this.report !== null;
    this.startControls.place.hidden = !canPlace || placing;
    this.startControls.placing.hidden = !placing;
    this.startControls.clear.hidden = !canPlace || placing || !meta.placed_start;
    this.root.dataset.placing = placing ? String(state.placing.length) : "";
    this.sketch.panel.hidden = !(meta.can_sketch && this.report !== null) || placing;
    if (!meta.can_sketch && this.drawing) this.drawing = false;
    if (placing) {
      const left = meta.k - state.placing.length;
      this.startControls.text.textContent = `Click ${left} more point${left === 1 ? "" : "s"} on the plot `
        + `(or move the ✛ with the arrows and press Enter; ${state.placing.length} of ${meta.k} placed)`;
      this.startControls.undo.disabled = state.placing.length === 0;
    }
    // Quick clicks while placing a start must not read as Plotly's double-click, which
    // rescales the axes under the next click.
    const config = placing || this.drawing ? { ...PLOT_CONFIG, doubleClick: false } : PLOT_CONFIG;
    const [traces, figureLayout] = meta.n_dims === 1 ? densityFigure(this.payload, this.points, state)
      : [[...animationTraces(this.payload, this.points, state), ...this.access.cursorTraces()],
         animationLayout(meta, state)];
    const layout = keepDrawnMargins(this.plot, keepDrawnRanges(this.plot, { ...figureLayout, height: this.height },
                                                               this.rangesKey()),
                                   this.marginsKey(), this.marginsView());
    readableTicks(layout, this.payload);
    if (this.drawing) layout.dragmode = this.sketch.shape.value;
    const drawn = this.Plotly.react(this.plot, traces, layout, config)
      .then((result) => { this.access.afterDraw(); rememberMargins(this.plot); return result; });
    if (!this.plot.gmmSelecting) {  // Plotly's own events, once per plot
      this.plot.gmmSelecting = true;
      this.plot.on("plotly_selected", (event) => this.onSelected(event));
    }
    return drawn;
  }

  next() {
    this.stop();
    if (this.state.colours + 1 < this.frames) this.show(stateOf(this.payload, this.state.colours + 1, false));
  }

  previous() {
    this.stop();
    const f = this.state.half ? this.state.colours : this.state.colours - 1;
    if (f >= 0) this.show(stateOf(this.payload, f, false));
  }

  mStep() {
    this.stop();
    if (!this.state.half && this.consecutive(this.state.colours)) this.show(stateOf(this.payload, this.state.colours, true));
  }

  eStep() {
    this.stop();
    if (this.state.half) this.show(stateOf(this.payload, this.state.colours + 1, false));
  }

  // ---- drawing points on a sketch: the server adds them and fits again
  setDrawing(drawing) {
    this.markDrawing(drawing);
    this.show({ ...this.state, placing: undefined });
    if (drawing) this.plot.focus({ preventScroll: true });
  }

  markDrawing(drawing) {
    this.drawing = drawing;
    drawingCarriedOver = false;
    markDrawButton(this.sketch, drawing);
  }

  onSelected(event) {
    const shape = this.drawing && drawnShape(event);
    if (shape) this.report("sketch_add", shape);
  }

  // ---- a start placed by hand: k clicks, then the server fits from them
  beginPlacing() {
    this.stop();
    this.show({ ...stateOf(this.payload, 0, false), placing: [] });
    this.plot.focus({ preventScroll: true }); // the button hides: its keys go to the figure
  }

  placeStep(change) {
    const placing = change(this.state.placing);
    if (placing.length === this.payload.meta.k) {
      this.report("placed", placing);
      // Drawn until the fit from it arrives.
      this.show({ ...stateOf(this.payload, 0, false), sent: placing });
    } else {
      this.show({ ...this.state, placing });
    }
  }

  endPlacing() {
    this.show(stateOf(this.payload, this.state.colours, false));
  }

  togglePlay() {
    if (this.timer === null) this.start();
    else this.stop();
  }

  // Each frame is due one speed after the one before, from when the first was drawn. A
  // frame drawn late is followed by the last frame due by then (those between are
  // skipped), so "fast" keeps its pace on a slow machine; each frame drawn is its
  // iteration whole (figure, title and label). The first and last are whole draws
  // (show); between them only what moves.
  start() {
    this.buttons.play.textContent = "Pause";
    let f = 0, due = null;
    const step = () => {
      const last = this.frames - 1;
      const state = stateOf(this.payload, f, false);
      const drawn = f === 0 || f === last ? this.show(state) : this.showFrame(state);
      drawn.then(() => {
        if (this.timer === null) return;
        if (f >= last) return this.stop();
        const speed = Number(this.speed.value), now = performance.now();
        due = (due ?? now) + speed;
        f += 1;
        for (; f < last && due + speed <= now; f += 1) due += speed;
        this.timer = setTimeout(step, Math.max(0, due - now));
      });
    };
    this.timer = setTimeout(step, 0);
  }

  // A frame of playback. Plotly.react would recompute and redraw every trace and axis;
  // here the points take their new colours in place (recolourPoints) and Plotly.animate's
  // no-redraw path moves only the other traces that change between iterations (the
  // ellipses, mean paths, means and the markers on the curves), and the title follows.
  // (Plotly.animate still recomputes every trace: a frame's cost grows with their number.)
  // Anything else on the figure (a one-feature fit, a sketch being drawn, a start being
  // placed, the keyboard's cross) takes a whole draw.
  showFrame(state) {
    const { meta } = this.payload;
    const shown = this.plot.data ?? [];
    if (meta.n_dims === 1 || this.drawing || this.access.cursor || this.state?.placing || this.state?.sent) {
      return this.show(state);
    }
    const traces = animationTraces(this.payload, this.points, state);
    if (traces.length !== shown.length || traces.some((trace, i) => trace.name !== shown[i].name)) {
      return this.show(state);
    }
    const recoloured = recolourPoints(this.plot, meta, traces[0].marker);
    const moving = [], data = [];
    traces.forEach((trace, i) => {
      if (trace.name === "data" && !recoloured) data.push({ marker: { color: trace.marker.color, symbol: trace.marker.symbol } });
      else if (MOVING_TRACE.test(trace.name)) data.push({ x: trace.x, y: trace.y });
      else return;
      moving.push(i);
    });
    this.showPosition(state);
    // The title: Plotly.relayout would restyle the whole layout after the frame (a
    // quarter of its time). Plotly.animate takes a plain-text title into the figure's
    // layout, and its drawn text follows here; a title Plotly would format goes through
    // relayout.
    const title = animationLayout(meta, state).title.text;
    const drawnTitle = this.plot.querySelector(".gtitle");
    const plainTitle = drawnTitle !== null && !/[<&]/.test(title);
    return this.Plotly.animate(this.plot, { data, traces: moving, layout: plainTitle ? { title: { text: title } } : {} },
                               { mode: "immediate", transition: { duration: 0 }, frame: { duration: 0, redraw: false } })
      .then(() => {
        if (!plainTitle) return this.Plotly.relayout(this.plot, { "title.text": title });
        drawnTitle.textContent = title;
        drawnTitle.setAttribute("data-unformatted", title);
      })
      .then(() => this.access.afterDraw());
  }

  stop() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.buttons.play.textContent = "Play";
  }
}

// ------------------------------------------------------------------ an empty sketch
// A sketch with too few points to fit: an equal-scale frame to draw on, "Draw points"
// already on, and a hint. Its first fit replaces it with the animation, which goes on
// drawing (``drawingCarriedOver``: the animation may be a new view in a new element).
let drawingCarriedOver = false;

function markDrawButton(sketch, drawing) {
  sketch.draw.setAttribute("aria-pressed", String(drawing));
  sketch.draw.textContent = drawing ? "Stop drawing" : "Draw points";
  sketch.shapeLabel.hidden = !drawing;
}

// What a box or lasso dragged on the plot adds to a sketch (Plotly's selection event).
function drawnShape(event) {
  if (event?.range) return { box: event.range };
  if (event?.lassoPoints) return { lasso: event.lassoPoints };
  return null;
}

const CANVAS_HTML = `
  <div class="gmm-plot"></div>
  <div class="gmm-controls gmm-start-controls">
    <button type="button" class="gmm-draw" aria-pressed="true"
      title="Add points: click for a cloud at the pointer, or drag a shape to fill it">Stop drawing</button>
    <label class="gmm-draw-shape-label">drag draws a
      <select class="gmm-draw-shape"><option value="select">box</option><option value="lasso">lasso</option></select>
    </label>
    <span class="gmm-hint" aria-live="polite"></span>
  </div>`;

class CanvasView {
  constructor(root, Plotly, report) {
    this.root = root;
    this.Plotly = Plotly;
    this.report = report;
    root.classList.add("gmm-view", "gmm-canvas");
    root.dataset.gmmView = "canvas";
    root.innerHTML = CANVAS_HTML;
    const find = (name) => root.querySelector(`.gmm-${name}`);
    this.plot = find("plot");
    this.hint = find("hint");
    this.sketch = { draw: find("draw"), shape: find("draw-shape"), shapeLabel: find("draw-shape-label") };
    this.drawing = true;
    drawingCarriedOver = true;
    this.sketch.draw.addEventListener("click", () => {
      this.drawing = drawingCarriedOver = !this.drawing;
      markDrawButton(this.sketch, this.drawing);
      this.show();
    });
    this.sketch.shape.addEventListener("change", () => this.show());
    this.plot.addEventListener("click", (event) => {
      const point = this.drawing && this.report && dataCoordinates(this.plot, event);
      if (point) this.report("sketch_add", { point });
    });
  }

  async update(payload, points) {
    if (this.payload?.meta.fit_id === payload.meta.fit_id) return false;
    this.payload = payload;
    this.points = points;
    this.hint.textContent = payload.meta.hint;
    await this.show();
    return true;
  }

  show() {
    const { meta } = this.payload;
    const drawn = this.Plotly.react(this.plot, [{
      type: "scatter", mode: "markers", name: "sketch", hoverinfo: "x+y", x: this.points.x, y: this.points.y,
      marker: { size: meta.marker_size, color: "#444", opacity: 0.8 },
    }], {
      height: meta.height, showlegend: false, hovermode: "closest", font: { size: meta.font_size },
      margin: { l: 10, r: 10, t: 20, b: 40, autoexpand: true },
      dragmode: this.drawing ? this.sketch.shape.value : "zoom",
      xaxis: axis(meta.x_title, meta.x_range, { constrain: "domain" }),
      yaxis: axis(meta.y_title, meta.y_range, { scaleanchor: "x", scaleratio: 1, constrain: "domain" }),
    }, { ...PLOT_CONFIG, doubleClick: false });
    if (!this.plot.gmmSelecting) {
      this.plot.gmmSelecting = true;
      this.plot.on("plotly_selected", (event) => {
        const shape = this.drawing && drawnShape(event);
        if (shape) this.report?.("sketch_add", shape);
      });
    }
    return drawn;
  }
}

// ------------------------------------------------------------------ still panels
function panelTraces(payload, points, i) {
  const { meta, arrays } = payload;
  const panel = meta.panels[i];
  const labels = arrays[`labels_${i}`].data, centres = arrays[`centres_${i}`].data, axes = arrays[`axes_${i}`].data;
  const k = panel.palette.length;
  const traces = [{ type: "scatter", mode: "markers", name: "data", hoverinfo: "x+y", x: points.x, y: points.y,
                    marker: { size: meta.marker_size, opacity: 0.8, color: Array.from(labels, (j) => panel.palette[j]) } }];
  for (let j = 0; j < k; j++) {
    traces.push({ type: "scatter", mode: "lines", name: `component ${j} ellipses`, hoverinfo: "skip",
                  line: { color: panel.palette[j], width: 1.5 }, ...ellipses(centres, axes, j, meta.sigma_levels) });
  }
  traces.push({
    type: "scatter", mode: "markers", name: "means", customdata: [...Array(k).keys()], hovertemplate: MEAN_HOVER,
    x: Array.from({ length: k }, (_, j) => centres[2 * j]), y: Array.from({ length: k }, (_, j) => centres[2 * j + 1]),
    marker: { color: panel.palette, size: meta.mean_size, symbol: "x", line: { color: "black", width: 1 } },
  });
  return traces;
}

// A still panel is one picture to a screen reader, named by its title; its toolbar is
// for the mouse.
function describePanel(plot, title) {
  plot.setAttribute("role", "img");
  plot.setAttribute("aria-label", title);
  untabModebar(plot);
}

// Panels sit below the animation: drawn when they scroll into view (or are about to), so
// a change of fit redraws what the user looks at first.
class PanelsView {
  constructor(root, Plotly) {
    this.root = root;
    this.Plotly = Plotly;
    root.classList.add("gmm-view", "gmm-panels");
    root.dataset.gmmView = "panels";
    this.visible = false;
    this.pending = null;
    followWidth(root, () => root.querySelectorAll(".js-plotly-plot").forEach((gd) => Plotly.Plots.resize(gd)));
    new IntersectionObserver((entries) => {
      this.visible = entries.some((entry) => entry.isIntersecting);
      if (this.visible && this.pending) this.drawPending();
    }, { rootMargin: "200px" }).observe(root);
  }

  // Resolves to whether it drew (only when on screen).
  async update(payload, points) {
    this.pending = { payload, points };
    if (!this.visible) return false;
    await this.drawPending();
    return true;
  }

  drawPending() {
    const { payload, points } = this.pending;
    this.pending = null;
    const { meta } = payload;
    while (this.root.children.length < meta.panels.length) {
      this.root.appendChild(Object.assign(document.createElement("div"), { className: "gmm-plot" }));
    }
    return Promise.all(meta.panels.map((panel, i) => {
      const [traces, axes] = meta.n_dims === 1 ? densityPanelFigure(payload, points, i)
        : [panelTraces(payload, points, i),
           { xaxis: axis(meta.x_title, meta.x_range, dataAxes(meta)[0]),
             yaxis: axis(meta.y_title, meta.y_range, dataAxes(meta)[1]) }];
      return this.Plotly.react(
        this.root.children[i], traces,
        { title: { text: panel.title }, height: meta.height, showlegend: false, font: { size: meta.font_size },
          margin: { l: 10, r: 10, t: 50, b: 10 }, ...axes },
        PLOT_CONFIG).then(() => describePanel(this.root.children[i], panel.title));
    })).then(() => { this.root.dataset.panelsDrawn = String(Number(this.root.dataset.panelsDrawn ?? 0) + 1); });
  }
}

const VIEWS = { animation: AnimationView, panels: PanelsView, canvas: CanvasView };

// ------------------------------------------------------------------ mounting
// ``xy``: each point's coordinates, ``width`` of them (2, or 1 for a fit of one feature).
function storePoints(id, xy, width) {
  const points = width === 1 ? { x: Array.from(xy), y: null }
    : { x: xy.filter((_, i) => i % 2 === 0), y: xy.filter((_, i) => i % 2 === 1) };
  pointSets.delete(id);
  pointSets.set(id, points);
  while (pointSets.size > KEPT_POINT_SETS) pointSets.delete(pointSets.keys().next().value);
  for (const resolve of pointWaiters.get(id) ?? []) resolve(points);
  pointWaiters.delete(id);
  return points;
}

function whenPoints(id) {
  if (pointSets.has(id)) return Promise.resolve(pointSets.get(id));
  return new Promise((resolve) => pointWaiters.set(id, [...(pointWaiters.get(id) ?? []), resolve]));
}

// ``report(name, value)`` sends a trigger to the server (null: a page without one).
async function draw(root, bytes, report) {
  const [Plotly, payload] = await Promise.all([loadPlotly(), unpack(bytes)]);
  const { meta, arrays } = payload;
  if (arrays.points) {
    storePoints(meta.points_id, arrays.points.data, arrays.points.shape[1]);
    root.dataset.pointsLoads = String(Number(root.dataset.pointsLoads ?? 0) + 1);
  }
  // The server leaves the animation's points out once it has sent them; if they were
  // lost (the page's scripts reloaded), the view asks again. Panels never carry points:
  // they draw the animation's.
  if (meta.kind === "animation" && !pointSets.has(meta.points_id)) {
    report?.("missing_points", meta.points_id);
  }
  const points = await whenPoints(meta.points_id);
  const state = views.get(root) ?? { serial: 0 };
  views.set(root, state);
  const View = VIEWS[meta.kind];
  if (!(state.view instanceof View)) state.view = new View(root, Plotly, report);
  const start = performance.now();
  if (!(await state.view.update(payload, points))) return;
  root.dataset.drawn = String(++state.serial);
  // For profiling (benchmarks/bench_browser.py): when each payload arrived and was drawn.
  performance.measure(`gmm-plot-${meta.kind}`, { start, end: performance.now() });
}

function reportError(root, error) {
  root.textContent = `This figure could not be drawn: ${error.message}`;
  root.classList.add("gmm-error");
  console.error(error);
}

// Streamlit renders the component once per new payload; runs that overtake each other
// draw in order because each waits for the previous one.
export default function render(component) {
  const { parentElement, data, setTriggerValue } = component;
  if (!data?.length) return; // the preload: importing this module was the point
  performance.mark("gmm-payload", { detail: data.length });
  let root = parentElement.querySelector(".gmm-root");
  if (!root) {
    root = Object.assign(document.createElement("div"), { className: "gmm-root" });
    parentElement.appendChild(root);
  }
  const previous = root.gmmDrawing ?? Promise.resolve();
  root.gmmDrawing = previous.then(() => draw(root, data, setTriggerValue))
    .catch((error) => reportError(root, error));
}

/** The offline HTML export: draw ``base64`` (a payload with its points) into ``root``. */
export function mountStandalone(root, base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  root.classList.add("gmm-root");
  return draw(root, bytes, null).catch((error) => reportError(root, error));
}
