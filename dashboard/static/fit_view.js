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
const PLOT_CONFIG = { displaylogo: false, responsive: true };
const MEAN_HOVER = "component %{customdata}<br>(%{x:.4g}, %{y:.4g})<extra></extra>";
const SPEEDS = [["slow", 600], ["normal", 150], ["fast", 40]];
const KEPT_POINT_SETS = 4;

// Point sets by id, shared by every view on the page: a panel draws the points the
// animation received, and a new fit of the same data does not bring them again.
const pointSets = (globalThis.gmmExplorerPointSets ??= new Map());
const pointWaiters = (globalThis.gmmExplorerPointWaiters ??= new Map());
const views = new WeakMap();

// ------------------------------------------------------------------ loading
let plotlyLoading = null;

function loadPlotly() {
  if (globalThis.gmmExplorerPlotly) return Promise.resolve(globalThis.gmmExplorerPlotly);
  plotlyLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = PLOTLY_URL;
    script.onload = () => resolve((globalThis.gmmExplorerPlotly = window.Plotly));
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
// The colour of each blend code (dashboard/figures.py blend_codes): an RGB cube of
// ``levels`` levels per channel, made once.
const blendScales = new Map();

function blendColorscale(levels) {
  if (!blendScales.has(levels)) {
    const n = levels ** 3, step = 255 / (levels - 1), scale = [];
    for (let code = 0; code < n; code++) {
      const r = Math.round(Math.floor(code / levels ** 2) * step);
      const g = Math.round(Math.floor(code / levels) % levels * step);
      const b = Math.round(code % levels * step);
      scale.push([code / (n - 1), `rgb(${r},${g},${b})`]);
    }
    blendScales.set(levels, scale);
  }
  return blendScales.get(levels);
}

function pointMarker(meta) {
  if (meta.color_by === "responsibility") {
    return { size: meta.marker_size, opacity: 0.8, colorscale: blendColorscale(meta.blend_levels),
             cmin: 0, cmax: meta.blend_levels ** 3 - 1 };
  }
  return { size: meta.marker_size, opacity: 0.8, colorscale: "Viridis", cmin: 0, cmax: meta.uncertainty_max,
           showscale: true, colorbar: { title: { text: "uncertainty" }, x: 0.555, thickness: 12, len: 0.9 } };
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
  const traces = [{
    type: "scatter", mode: "markers", name: "data", hoverinfo: "x+y", x: points.x, y: points.y,
    marker: { ...pointMarker(meta), color: frameColors(payload, state.colours) },
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
  const iterations = [...Array(meta.n_iter + 1).keys()];
  const ll = arrays.log_likelihood.data, second = arrays.second.data;
  traces.push(
    { type: "scatter", mode: "lines", name: "log-likelihood", x: iterations, y: Array.from(ll),
      line: { color: "#444" }, xaxis: "x2", yaxis: "y2" },
    { type: "scatter", mode: "lines", name: meta.second_title, x: iterations, y: Array.from(second),
      line: { color: "#444" }, xaxis: "x3", yaxis: "y3" },
    { type: "scatter", mode: "markers", name: "current log-likelihood", x: [t], y: [ll[t]],
      marker: { color: "crimson", size: 10 }, hoverinfo: "x+y", xaxis: "x2", yaxis: "y2" },
    { type: "scatter", mode: "markers", name: `current ${meta.second_title}`, x: [t], y: [second[t]],
      marker: { color: "crimson", size: 10 }, hoverinfo: "x+y", xaxis: "x3", yaxis: "y3" },
  );
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
      <span class="gmm-placing-text"></span>
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
      if (!root.isConnected) return document.removeEventListener("keydown", onKey);
      const action = SHORTCUTS[event.key];
      if (!action || event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) return;
      event.preventDefault();
      this[action]();
    };
    document.addEventListener("keydown", onKey);
    this.followSize();
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
    this.height = fittedHeight(this.root, this.plot, payload.meta.height);
    await this.show(stateOf(payload, this.frames - 1, false));
    return true;
  }

  show(state) {
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
        + `(${state.placing.length} of ${meta.k} placed)`;
      this.startControls.undo.disabled = state.placing.length === 0;
    }
    // Quick clicks while placing a start must not read as Plotly's double-click, which
    // rescales the axes under the next click.
    const config = placing || this.drawing ? { ...PLOT_CONFIG, doubleClick: false } : PLOT_CONFIG;
    const layout = keepDrawnRanges(this.plot, { ...animationLayout(meta, state), height: this.height },
                                   this.rangesKey());
    if (this.drawing) layout.dragmode = this.sketch.shape.value;
    const drawn = this.Plotly.react(this.plot, animationTraces(this.payload, this.points, state),
                                    layout, config);
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
    this.drawing = drawing;
    this.sketch.draw.setAttribute("aria-pressed", String(drawing));
    this.sketch.draw.textContent = drawing ? "Stop drawing" : "Draw points";
    this.sketch.shapeLabel.hidden = !drawing;
    this.show({ ...this.state, placing: undefined });
  }

  onSelected(event) {
    if (!this.drawing || !event) return;
    if (event.range) this.report("sketch_add", { box: event.range });
    else if (event.lassoPoints) this.report("sketch_add", { lasso: event.lassoPoints });
  }

  // ---- a start placed by hand: k clicks, then the server fits from them
  beginPlacing() {
    this.stop();
    this.show({ ...stateOf(this.payload, 0, false), placing: [] });
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

  start() {
    this.buttons.play.textContent = "Pause";
    let f = 0;
    const step = () => {
      this.show(stateOf(this.payload, f, false)).then(() => {
        if (this.timer === null) return;
        f += 1;
        if (f >= this.frames) return this.stop();
        this.timer = setTimeout(step, Number(this.speed.value));
      });
    };
    this.timer = setTimeout(step, 0);
  }

  stop() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.buttons.play.textContent = "Play";
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
    return Promise.all(meta.panels.map((panel, i) => this.Plotly.react(
      this.root.children[i], panelTraces(payload, points, i),
      { title: { text: panel.title }, height: meta.height, showlegend: false, font: { size: meta.font_size },
        margin: { l: 10, r: 10, t: 50, b: 10 },
        xaxis: axis(meta.x_title, meta.x_range, dataAxes(meta)[0]),
        yaxis: axis(meta.y_title, meta.y_range, dataAxes(meta)[1]) },
      PLOT_CONFIG))).then(() => { this.root.dataset.panelsDrawn = String(Number(this.root.dataset.panelsDrawn ?? 0) + 1); });
  }
}

const VIEWS = { animation: AnimationView, panels: PanelsView };

// ------------------------------------------------------------------ mounting
function storePoints(id, xy) {
  const points = { x: xy.filter((_, i) => i % 2 === 0), y: xy.filter((_, i) => i % 2 === 1) };
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
    storePoints(meta.points_id, arrays.points.data);
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
