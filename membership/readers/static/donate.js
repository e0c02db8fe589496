/* The donate form's fee line follows the amount: presets carry their exact fee (from
   billing/fees.py, printed by the server); a typed amount asks /donate/fee. Without
   this script the form works the same, and Checkout shows the total before paying. */
(function () {
  document.querySelectorAll("form.donate-form").forEach(function (form) {
    var label = form.querySelector(".fee-label"), hint = form.querySelector(".fee-hint");
    var custom = form.querySelector("input[name=custom_amount]");
    var timer = null;
    function show(fee, amount, total) {
      if (label) label.textContent = form.dataset.feeLabel.replace("{fee}", fee);
      if (hint) hint.textContent = form.dataset.feeHint.replace("{amount}", amount).replace("{total}", total);
    }
    form.querySelectorAll("input[name=amount]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (custom) custom.value = "";
        show(radio.dataset.fee, radio.dataset.amount, radio.dataset.total);
      });
    });
    if (!custom) return;
    custom.addEventListener("input", function () {
      clearTimeout(timer);
      if (!custom.value.trim()) return;
      form.querySelectorAll("input[name=amount]").forEach(function (r) { r.checked = false; });
      timer = setTimeout(function () {
        var q = new URLSearchParams({amount: custom.value, frequency: form.elements.frequency.value,
                                     currency: form.elements.currency.value});
        fetch(form.dataset.feeUrl + "?" + q.toString(), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (d) { if (d) show(d.fee, d.amount, d.total); })
          .catch(function () {});
      }, 300);
    });
  });
})();
