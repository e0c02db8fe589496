/* The join form's monthly/yearly switch, in place: without this script the switch is a
   pair of links that reload the page with ?interval=, which works just as well. */
(function () {
  "use strict";
  function init(form) {
    var field = form.querySelector("[data-join-interval]");
    var links = form.querySelectorAll(".join-switch a[data-interval]");
    var groups = form.querySelectorAll(".choices[data-interval]");
    function show(interval) {
      var plan = null;
      var checked = form.querySelector(".choices:not([hidden]) input[name=price]:checked");
      if (checked) plan = checked.closest("[data-plan]").getAttribute("data-plan");
      groups.forEach(function (group) {
        var on = group.getAttribute("data-interval") === interval;
        group.hidden = !on;
        group.querySelectorAll("input[name=price]").forEach(function (radio) { radio.disabled = !on; });
        if (on) {
          var same = plan && group.querySelector("[data-plan='" + plan + "'] input[name=price]");
          var pick = same || group.querySelector("input[name=price]");
          if (pick) pick.checked = true;
        }
      });
      links.forEach(function (link) {
        if (link.getAttribute("data-interval") === interval) link.setAttribute("aria-current", "true");
        else link.removeAttribute("aria-current");
      });
      field.value = interval;
    }
    links.forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        show(link.getAttribute("data-interval"));
        link.focus();
      });
    });
  }
  document.querySelectorAll("form.join-form").forEach(init);
})();
