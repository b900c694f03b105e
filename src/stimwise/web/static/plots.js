// stimwise: draws line and point charts as SVG from JSON in data-plot attributes (CSP: no
// inline scripts, no chart library). Each element
// <div class="plot" data-plot='{"title":..., "x_label":..., "y_label":...,
// "traces":[{"name":..., "x":[...], "y":[...], "mode":"lines"|"markers", "dash":"dash"}]}'>
// holds one chart (its title goes in the page's figcaption); the page states the same facts in
// text, so it stays usable without JS. A trace without a mode is drawn as steps (a sampled
// waveform holds each value until the next sample). An x label of "date" means x holds ISO
// dates, labelled as days.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const COLOURS = ["#1f5fa8", "#b3261e", "#2e7d32", "#7b3fa0", "#a05a00", "#00796b"];
  const DAY_MS = 86400000;
  const HEIGHT = 260;
  const MARGIN = { left: 58, right: 14, top: 12, bottom: 46 };
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
    "Dec"];

  function node(name, attributes, parent) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes || {})) {
      element.setAttribute(key, String(value));
    }
    if (parent) parent.appendChild(element);
    return element;
  }

  function text(parent, x, y, words, attributes) {
    const label = node("text", { x: x, y: y, ...attributes }, parent);
    label.textContent = words;
    return label;
  }

  // Round steps (1, 2, 2.5, 5 x 10^n) giving about `count` ticks over [low, high].
  function niceTicks(low, high, count) {
    const raw = (high - low) / Math.max(count, 1);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
    const ticks = [];
    for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) {
      ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return { ticks: ticks, step: step };
  }

  function numberLabel(value, step) {
    const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
    return value.toFixed(decimals).replace("-", "\u2212");
  }

  function dayLabel(time, short) {
    const day = new Date(time);
    const dd = String(day.getUTCDate()).padStart(2, "0");
    if (short) return dd + " " + MONTHS[day.getUTCMonth()];
    return day.getUTCFullYear() + "-" + String(day.getUTCMonth() + 1).padStart(2, "0") + "-" + dd;
  }

  function dayTicks(low, high, count) {
    const spanDays = (high - low) / DAY_MS;
    const step = [1, 2, 7, 14, 28, 56, 91, 182, 364].find((d) => spanDays / d <= count) || 364;
    const ticks = [];
    for (let t = Math.ceil(low / DAY_MS) * DAY_MS; t <= high; t += step * DAY_MS) {
      ticks.push(t);
    }
    return { ticks: ticks, short: spanDays <= 31 };
  }

  function extent(values, padding) {
    let low = Math.min(...values);
    let high = Math.max(...values);
    if (!isFinite(low)) return [0, 1];
    if (low === high) return [low - 1, high + 1];
    const pad = (high - low) * padding;
    return [low - pad, high + pad];
  }

  function draw(element, spec) {
    const dates = spec.x_label === "date";
    const traces = spec.traces.map((t, index) => ({
      ...t,
      colour: COLOURS[index % COLOURS.length],
      xs: (t.x || []).map((x) => (dates ? Date.parse(x) : Number(x))),
      ys: (t.y || []).map((y) => (y === null || y === undefined ? null : Number(y))),
    }));
    const allX = traces.flatMap((t) => t.xs).filter((x) => isFinite(x));
    const allY = traces.flatMap((t) => t.ys).filter((y) => y !== null && isFinite(y));
    let [x0, x1] = dates ? extent(allX, 0.03) : extent(allX, 0);
    if (dates && allX.length && Math.min(...allX) === Math.max(...allX)) {
      x0 = allX[0] - DAY_MS;  // one day of data: show the day between its neighbours
      x1 = allX[0] + DAY_MS;
    }
    let [y0, y1] = extent(allY.concat(allY.length && Math.min(...allY) > 0 ? [0] : []), 0.06);
    const width = Math.max(element.clientWidth || 0, 280);
    const plotWidth = width - MARGIN.left - MARGIN.right;
    const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
    const sx = (x) => MARGIN.left + ((x - x0) / (x1 - x0)) * plotWidth;
    const sy = (y) => MARGIN.top + (1 - (y - y0) / (y1 - y0)) * plotHeight;

    const svg = node("svg", {
      width: width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: "img",
      "aria-label": spec.title + " (chart; the same figures are listed as text on this page)",
      class: "plot-svg", "font-family": "system-ui, sans-serif", "font-size": 12,
      fill: "#1b1f24",
    });
    const yTicks = niceTicks(y0, y1, 5);
    for (const v of yTicks.ticks) {
      node("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: sy(v), y2: sy(v),
        stroke: v === 0 ? "#7a8594" : "#e1e5ea", "stroke-width": 1 }, svg);
      text(svg, MARGIN.left - 6, sy(v) + 4, numberLabel(v, yTicks.step), { "text-anchor": "end" });
    }
    const xCount = Math.max(2, Math.floor(plotWidth / 90));
    if (dates) {
      const xTicks = dayTicks(x0, x1, xCount);
      for (const t of xTicks.ticks) {
        node("line", { x1: sx(t), x2: sx(t), y1: MARGIN.top + plotHeight,
          y2: MARGIN.top + plotHeight + 4, stroke: "#7a8594" }, svg);
        text(svg, sx(t), MARGIN.top + plotHeight + 17, dayLabel(t, xTicks.short),
          { "text-anchor": "middle" });
      }
    } else {
      const xTicks = niceTicks(x0, x1, xCount);
      for (const v of xTicks.ticks) {
        node("line", { x1: sx(v), x2: sx(v), y1: MARGIN.top + plotHeight,
          y2: MARGIN.top + plotHeight + 4, stroke: "#7a8594" }, svg);
        text(svg, sx(v), MARGIN.top + plotHeight + 17, numberLabel(v, xTicks.step),
          { "text-anchor": "middle" });
      }
    }
    node("rect", { x: MARGIN.left, y: MARGIN.top, width: plotWidth, height: plotHeight,
      fill: "none", stroke: "#7a8594" }, svg);
    text(svg, MARGIN.left + plotWidth / 2, HEIGHT - 8, dates ? "date" : spec.x_label,
      { "text-anchor": "middle" });
    text(svg, 0, 0, spec.y_label, { "text-anchor": "middle",
      transform: `translate(14 ${MARGIN.top + plotHeight / 2}) rotate(-90)` });

    const clip = "plot-clip-" + Math.random().toString(36).slice(2);
    const defs = node("defs", {}, svg);
    node("rect", { x: MARGIN.left, y: MARGIN.top, width: plotWidth, height: plotHeight },
      node("clipPath", { id: clip }, defs));
    const area = node("g", { "clip-path": `url(#${clip})` }, svg);
    for (const t of traces) {
      if (t.mode === "markers") {
        t.xs.forEach((x, i) => {
          if (t.ys[i] === null || !isFinite(x)) return;
          const dot = node("circle", { cx: sx(x), cy: sy(t.ys[i]), r: 3.2, fill: t.colour },
            area);
          const shown = dates ? dayLabel(x, false) : numberLabel(x, 1e-3);
          node("title", {}, dot).textContent = `${t.name}: ${shown}, ${t.ys[i]}`;
        });
        continue;
      }
      let path = "";
      let open = false;
      t.xs.forEach((x, i) => {
        const y = t.ys[i];
        if (y === null || !isFinite(x)) {
          open = false;
          return;
        }
        if (!open) {
          path += `M${sx(x).toFixed(2)} ${sy(y).toFixed(2)}`;
          open = true;
        } else if (t.mode === "lines") {
          path += `L${sx(x).toFixed(2)} ${sy(y).toFixed(2)}`;
        } else {
          path += `H${sx(x).toFixed(2)}V${sy(y).toFixed(2)}`;
        }
      });
      node("path", { d: path, fill: "none", stroke: t.colour, "stroke-width": 1.5,
        "stroke-linejoin": "round", "stroke-dasharray": t.dash ? "6 4" : "none" }, area);
    }

    const legend = document.createElement("ul");
    legend.className = "plot-legend";
    legend.setAttribute("aria-hidden", "true");  // the page lists the same figures in text
    for (const t of traces) {
      const item = document.createElement("li");
      const swatch = node("svg", { width: 22, height: 10, "aria-hidden": "true" }, item);
      if (t.mode === "markers") {
        node("circle", { cx: 11, cy: 5, r: 3.2, fill: t.colour }, swatch);
      } else {
        node("line", { x1: 0, x2: 22, y1: 5, y2: 5, stroke: t.colour, "stroke-width": 2,
          "stroke-dasharray": t.dash ? "6 4" : "none" }, swatch);
      }
      item.appendChild(document.createTextNode(" " + t.name));
      legend.appendChild(item);
    }
    element.textContent = "";
    element.appendChild(svg);
    if (traces.length > 1 || traces.some((t) => t.name)) element.appendChild(legend);
  }

  function drawPlot(element, given) {
    let spec = given;
    if (!spec) {
      try {
        spec = JSON.parse(element.getAttribute("data-plot"));
      } catch (error) {
        return;
      }
    }
    element.stimwisePlot = spec;
    draw(element, spec);
  }

  // Charts follow the width of their box (a phone turned, a window resized).
  const resized = typeof ResizeObserver === "undefined" ? null : new ResizeObserver((entries) => {
    for (const entry of entries) {
      const element = entry.target;
      const svg = element.querySelector("svg.plot-svg");
      if (element.stimwisePlot && svg && Math.abs(svg.getAttribute("width") -
          Math.max(element.clientWidth, 280)) > 2) {
        draw(element, element.stimwisePlot);
      }
    }
  });

  window.stimwiseDrawPlot = function (element, given) {
    drawPlot(element, given);
    if (resized) resized.observe(element);
  };

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-plot]").forEach((element) => {
      window.stimwiseDrawPlot(element);
    });
  });
})();
