/* The newsroom's one script tag (docs/embedding.md):
 *   <script src="https://members.example.org/embed.js" data-kind="join|donate"
 *           data-display="button|inline" data-lang="en|hy" async></script>
 * "button" puts a link to our page where the tag is; "inline" puts our form in an
 * iframe (/embed/join or /embed/donate) that grows to its content's height, which the
 * frame reports by postMessage; messages from any other origin or window are ignored.
 * No dependencies, no cookies, nothing global. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.parentNode) return;
  var base = new URL(script.src, location.href).origin;
  var kind = script.getAttribute("data-kind") === "join" ? "join" : "donate";
  var inline = script.getAttribute("data-display") === "inline";
  var lang = (script.getAttribute("data-lang") || document.documentElement.lang || "en").slice(0, 2).toLowerCase();
  var words = {en: {join: "Join", donate: "Donate"}, hy: {join: "Դառնալ անդամ", donate: "Նվիրաբերել"}};
  var label = script.getAttribute("data-label") || (words[lang] || words.en)[kind];
  var query = "?lang=" + encodeURIComponent(lang);
  var el;
  if (inline) {
    el = document.createElement("iframe");
    el.src = base + "/embed/" + kind + query;
    el.name = "membership-embed " + location.origin;  // where the frame may send its height
    el.title = label;
    el.style.cssText = "display:block;width:100%;max-width:40rem;height:36rem;border:0";
    window.addEventListener("message", function (event) {
      var data = event.data;
      if (event.origin !== base || event.source !== el.contentWindow || !data) return;
      if (data.type === "membership-embed:height" && data.height > 0 && data.height < 20000) {
        el.style.height = Math.ceil(data.height) + "px";
      }
    });
  } else {
    el = document.createElement("a");
    el.href = base + "/" + kind + query;
    el.textContent = label;
    el.style.cssText = "display:inline-block;padding:.6em 1.2em;border-radius:4px;background:#1a1a1a;" +
      "color:#fff;font-weight:600;text-decoration:none";
  }
  el.className = "membership-embed membership-embed-" + kind;
  script.parentNode.insertBefore(el, script);
})();
