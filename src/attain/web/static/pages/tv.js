/* 战报墙 TV mode (?tv=1): page through every row of the ranking, `data-page-seconds` per page, so the
   bottom of the ranking is seen too; say which page is on; keep the page across the board's 60-second
   HTMX refresh; show each milestone banner (tracking's crossings of the day) once, for a few seconds.
   The CSP allows no inline script: this file is the whole behaviour. */
(function () {
  "use strict";
  var BANNER_MS = 6000;
  var state = { page: 0, timer: null, banners: [] };

  function board() { return document.querySelector("[data-tv]"); }

  function rowsOf(wall) { return Array.prototype.slice.call(wall.querySelectorAll("tbody tr")); }

  function perPage(wall, rows) {
    rows.forEach(function (row) { row.hidden = false; });
    var body = wall.querySelector("tbody");
    if (!body || !rows.length) return 1;
    var top = body.getBoundingClientRect().top - wall.getBoundingClientRect().top;
    var room = window.innerHeight - top - 24;
    var height = rows[0].getBoundingClientRect().height || 1;
    return Math.max(1, Math.floor(room / height));
  }

  function show(wall) {
    var rows = rowsOf(wall);
    var size = perPage(wall, rows);
    var pages = Math.max(1, Math.ceil(rows.length / size));
    if (state.page >= pages) state.page = 0;
    rows.forEach(function (row, i) { row.hidden = i < state.page * size || i >= (state.page + 1) * size; });
    wall.dataset.page = String(state.page + 1);
    wall.dataset.pages = String(pages);
    var label = wall.querySelector("[data-testid=tv-page]");
    if (label) label.textContent = (state.page + 1) + " / " + pages;
    return pages;
  }

  function tick() {
    var wall = board();
    if (!wall) return;
    state.page += 1;
    show(wall);
  }

  function seen() {
    try { return JSON.parse(sessionStorage.getItem("attain-celebrated") || "[]"); } catch (e) { return []; }
  }

  function remember(key) {
    var keys = seen();
    keys.push(key);
    try { sessionStorage.setItem("attain-celebrated", JSON.stringify(keys.slice(-200))); } catch (e) { /* private mode */ }
  }

  function celebrate(wall) {
    var done = seen();
    wall.querySelectorAll(".celebrate[data-key]").forEach(function (banner) {
      if (done.indexOf(banner.dataset.key) < 0 && state.banners.indexOf(banner.dataset.key) < 0) {
        state.banners.push(banner.dataset.key);
      }
    });
    playNext();
  }

  function playNext() {
    if (state.playing || !state.banners.length) return;
    var wall = board();
    var key = state.banners.shift();
    var banner = wall && wall.querySelector('.celebrate[data-key="' + key.replace(/"/g, '\\"') + '"]');
    if (!banner) { playNext(); return; }
    state.playing = true;
    banner.hidden = false;
    remember(key);
    setTimeout(function () {
      banner.hidden = true;
      state.playing = false;
      playNext();
    }, BANNER_MS);
  }

  function start() {
    var wall = board();
    if (!wall) return;
    show(wall);
    celebrate(wall);
    if (state.timer) clearInterval(state.timer);
    var seconds = Math.max(3, Number(wall.dataset.pageSeconds) || 10);
    state.timer = setInterval(tick, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSettle", function () { if (board()) start(); });
  window.addEventListener("resize", function () { var wall = board(); if (wall) show(wall); });
})();
