// Proofreading on the page view (wenshi serve --edit, a signed-in editor): the text panel
// switches to a <textarea name="text">; the ALTO line under the cursor is outlined on the scan;
// Ctrl+S saves, Ctrl+Shift+S saves and opens the next page needing proofreading, Alt+N opens it.
(function () {
  "use strict";
  var form = document.getElementById("edit-form");
  var toggle = document.querySelector("[data-edit]");
  if (!form || !toggle) { return; }
  var area = form.querySelector("textarea[name=text]");
  var shown = document.querySelector(".page-text");
  var original = area.value;
  var submitting = false;

  function open() {
    form.hidden = false;
    if (shown) { shown.hidden = true; }
    toggle.textContent = "结束校对";
    toggle.setAttribute("aria-expanded", "true");
    area.focus();
    outline();
  }
  function close() {
    form.hidden = true;
    if (shown) { shown.hidden = false; }
    toggle.textContent = "校对此页";
    toggle.setAttribute("aria-expanded", "false");
  }
  toggle.addEventListener("click", function () { if (form.hidden) { open(); } else { close(); } });

  // The line under the cursor: the ALTO line whose span of the saved text holds the caret.
  var lines = Array.prototype.map.call(document.querySelectorAll("[data-line-box]"), function (el) {
    return { start: Number(el.dataset.start), end: Number(el.dataset.end), x: Number(el.dataset.x),
             y: Number(el.dataset.y), w: Number(el.dataset.w), h: Number(el.dataset.h) };
  });
  var viewerElement = document.getElementById("viewer");
  var width = viewerElement ? Number(viewerElement.dataset.width) : 0;
  var marker = document.createElement("div");
  marker.className = "line-outline";
  marker.setAttribute("data-line-outline", "");
  var placed = false;

  function lineAt(offset) {
    var best = -1;
    for (var i = 0; i < lines.length; i++) {
      if (lines[i].start <= offset) { best = i; }
      if (offset < lines[i].end && lines[i].start <= offset) { return i; }
    }
    return best;
  }
  function outline() {
    var viewer = window.wenshiViewer;
    if (!viewer || !lines.length || !width || form.hidden) { return; }
    var index = lineAt(area.selectionStart);
    if (index < 0) { return; }
    var l = lines[index];
    var rect = new OpenSeadragon.Rect(l.x / width, l.y / width, l.w / width, l.h / width);
    marker.dataset.line = String(index);
    if (placed) { viewer.updateOverlay(marker, rect); }
    else if (viewer.world.getItemCount()) {
      viewer.addOverlay({ element: marker, location: rect });
      placed = true;
    }
    var bounds = viewer.viewport.getBounds();
    if (!bounds.containsPoint || !bounds.containsPoint(rect.getCenter())) {
      viewer.viewport.panTo(rect.getCenter());
    }
  }
  ["keyup", "click", "select", "focus"].forEach(function (kind) {
    area.addEventListener(kind, outline);
  });
  document.addEventListener("selectionchange", function () {
    if (document.activeElement === area) { outline(); }
  });
  if (window.wenshiViewer) { window.wenshiViewer.addHandler("open", outline); }

  form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("beforeunload", function (event) {
    if (!submitting && !form.hidden && area.value !== original) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  document.addEventListener("keydown", function (event) {
    var key = (event.key || "").toLowerCase();
    if ((event.ctrlKey || event.metaKey) && key === "s") {
      event.preventDefault();
      if (form.hidden) { open(); return; }
      form.querySelector(event.shiftKey ? "[data-save-next]" : "[data-save]").click();
    } else if (event.altKey && (key === "n" || event.code === "KeyN")) {
      event.preventDefault();
      var next = form.querySelector("[data-next]");
      if (next) { window.location.href = next.href; }
    }
  });
  if (new URLSearchParams(window.location.search).get("edit") === "1") { open(); }
})();
