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
  var doubtNote = document.querySelector("[data-doubts]");  // speaks of the marks in `shown`
  var original = area.value;
  var submitting = false;

  function open() {
    form.hidden = false;
    if (shown) { shown.hidden = true; }
    if (doubtNote) { doubtNote.hidden = true; }
    toggle.textContent = "结束校对";
    toggle.setAttribute("aria-expanded", "true");
    area.focus();
    outline();
  }
  function close() {
    form.hidden = true;
    if (shown) { shown.hidden = false; }
    if (doubtNote) { doubtNote.hidden = false; }
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

  // Drafts: the text being corrected is kept in this browser (localStorage) as it is typed and
  // when it is sent, so a save the server refuses (the sign-in lapsed: restart, 12 hours, signed
  // out elsewhere) or a closed tab loses nothing. A successful save clears it; opening the page
  // again offers the draft back while it differs from the stored text.
  var versionField = form.querySelector("input[name=version]");
  var draftKey = "wenshi-draft:" + form.getAttribute("action");
  var draftTimer = 0;
  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  function keepDraft() {
    var store = storage();
    if (!store) { return; }
    window.clearTimeout(draftTimer);
    if (area.value === original) { store.removeItem(draftKey); return; }
    try {
      store.setItem(draftKey, JSON.stringify({ text: area.value, version: versionField.value,
                                               at: Date.now() }));
    } catch (e) { /* storage full or refused: the server still gets the text */ }
  }
  function readDraft() {
    var store = storage();
    if (!store) { return null; }
    try {
      var draft = JSON.parse(store.getItem(draftKey) || "null");
      return draft && typeof draft.text === "string" ? draft : null;
    } catch (e) { return null; }
  }
  function dropDraft() {
    var store = storage();
    if (store) { store.removeItem(draftKey); }
  }
  area.addEventListener("input", function () {
    window.clearTimeout(draftTimer);
    draftTimer = window.setTimeout(keepDraft, 400);
  });
  var draft = readDraft();
  if (new URLSearchParams(window.location.search).get("saved")) { draft = null; dropDraft(); }
  if (draft && draft.text === original) { draft = null; dropDraft(); }
  if (draft) {
    var note = document.createElement("div");
    note.className = "draft-note";
    note.setAttribute("data-draft", "");
    var at = new Date(Number(draft.at) || 0);  // shown in the reader's own time zone
    function two(n) { return (n < 10 ? "0" : "") + n; }
    var when = at.getFullYear() + "-" + two(at.getMonth() + 1) + "-" + two(at.getDate()) + " " +
      two(at.getHours()) + ":" + two(at.getMinutes());
    var said = document.createElement("span");
    said.textContent = "本页有未保存的修改（" + when + "，基于第" + draft.version + "版）";
    var restore = document.createElement("button");
    restore.type = "button";
    restore.textContent = "恢复";
    restore.setAttribute("data-draft-restore", "");
    var discard = document.createElement("button");
    discard.type = "button";
    discard.textContent = "舍弃";
    discard.setAttribute("data-draft-discard", "");
    note.appendChild(said);
    note.appendChild(restore);
    note.appendChild(discard);
    form.parentNode.insertBefore(note, form);
    restore.addEventListener("click", function () {
      area.value = draft.text;
      // Saved against the version it was written on: if the page changed since, the server
      // answers with the conflict page instead of overwriting the newer version.
      versionField.value = draft.version;
      note.remove();
      open();
    });
    discard.addEventListener("click", function () { dropDraft(); note.remove(); });
  }

  form.addEventListener("submit", function () { submitting = true; keepDraft(); });
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
