// The page view: the scan in OpenSeadragon (IIIF level 0 sizes), each [data-hit-box] placed
// over the matched characters (boxes in the scan's pixels), marks in the text linked to them;
// the same for the characters the engine was unsure of ([data-doubt-box], [data-doubt]).
(function () {
  "use strict";
  var copy = document.querySelector("[data-copy]");
  if (copy) {
    copy.addEventListener("click", function () {
      var field = document.querySelector(".citation");
      field.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(field.value); }
      else { document.execCommand("copy"); }
      copy.textContent = "已复制";
    });
  }
  var element = document.getElementById("viewer");
  if (!element || typeof OpenSeadragon === "undefined") { return; }
  var width = Number(element.dataset.width);
  var viewer = OpenSeadragon({
    element: element,
    prefixUrl: "/static/openseadragon/images/",
    tileSources: element.dataset.info,
    showNavigator: false,
    gestureSettingsTouch: { pinchRotate: false },
    visibilityRatio: 0.5,
    crossOriginPolicy: false
  });
  window.wenshiViewer = viewer;
  function rectOf(box) {
    // Viewport coordinates: the image's width is 1, whatever size of it is shown.
    return new OpenSeadragon.Rect(Number(box.dataset.x) / width, Number(box.dataset.y) / width,
                                  Number(box.dataset.w) / width, Number(box.dataset.h) / width);
  }
  viewer.addHandler("open", function () {
    var boxes = document.querySelectorAll("[data-hit-box]");
    boxes.forEach(function (box) {
      viewer.addOverlay({ element: box, location: rectOf(box) });
    });
    // Characters the engine was unsure of: a red line under each on the scan; a click on one
    // in the text shows it there.
    document.querySelectorAll("[data-doubt-box]").forEach(function (box) {
      viewer.addOverlay({ element: box, location: rectOf(box) });
    });
    document.querySelectorAll("[data-doubt]").forEach(function (mark) {
      mark.addEventListener("click", function (event) {
        var box = document.querySelector('[data-doubt-box="' + mark.dataset.doubt + '"]');
        if (!box) { return; }
        event.stopPropagation();
        var r = rectOf(box);
        viewer.viewport.fitBoundsWithConstraints(
          new OpenSeadragon.Rect(r.x - 4 * r.width, r.y - 4 * r.height, r.width * 9, r.height * 9));
      });
    });
    document.querySelectorAll("mark[data-hit]").forEach(function (mark) {
      mark.addEventListener("click", function () {
        var box = document.querySelector('[data-hit-box="' + mark.dataset.hit + '"]');
        if (!box) { return; }
        var r = rectOf(box);
        viewer.viewport.fitBoundsWithConstraints(
          new OpenSeadragon.Rect(r.x - r.width, r.y - 4 * r.height, r.width * 3, r.height * 9));
      });
    });
  });
  viewer.addHandler("tile-loaded", function () { element.dataset.loaded = "1"; });
})();
