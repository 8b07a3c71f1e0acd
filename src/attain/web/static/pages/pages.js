/* Attain content pages: draw every ECharts chart whose option sits in <script type="application/json">,
   again after HTMX swaps, and resize with the window. No other behaviour lives here. */
(function () {
  "use strict";
  /* An option's "unit" (万元, 亿元, ...: the axis name) is added to its tooltip values. */
  function withUnit(option) {
    var unit = option.unit;
    delete option.unit;
    if (unit && option.tooltip) {
      option.tooltip.valueFormatter = function (value) {
        if (value === null || value === undefined || value === "-") return "—";
        return Number(value).toLocaleString(undefined, { maximumFractionDigits: 2 }) + " " + unit;
      };
    }
    return option;
  }
  function draw(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var chart = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: "svg" });
      chart.setOption(withUnit(JSON.parse(source.textContent)), true);
    });
  }
  function resize() {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = window.echarts && echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  }
  function fullscreen() {
    var wall = document.querySelector("[data-wall]");
    if (wall && wall.requestFullscreen) wall.requestFullscreen();
  }
  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
    var button = document.querySelector("[data-fullscreen]");
    if (button) button.addEventListener("click", fullscreen);
  });
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
  window.addEventListener("resize", resize);
})();
