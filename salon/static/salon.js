// Salon's only script: the pages carry no inline script or on…= attribute (the Content-Security-Policy
// forbids them, salon/security.py); behaviour hangs on data- attributes here.

// Asks before what cannot be undone: a form marked data-confirm="question?", or its submit button marked so
// (the button's question wins). Add the attribute; nothing else is needed.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var question = (button && button.getAttribute("data-confirm")) ||
    (form.getAttribute && form.getAttribute("data-confirm"));
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Copy buttons: <button data-copy="id-of-a-field-or-code">; says so when done.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("button[data-copy]");
  if (!button) { return; }
  var field = document.getElementById(button.getAttribute("data-copy"));
  if (!field) { return; }
  var done = function () {
    var label = button.textContent;
    button.textContent = button.getAttribute("data-copied") || label;
    setTimeout(function () { button.textContent = label; }, 2000);
  };
  // A text field or a <code> element (a link shown as text): select it, then copy its text.
  var text = field.value !== undefined ? field.value : field.textContent.trim();
  if (field.select) {
    field.select();
  } else {
    var range = document.createRange();
    range.selectNodeContents(field);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, function () { document.execCommand("copy"); done(); });
  } else {
    document.execCommand("copy");
    done();
  }
});

// A read-only field to copy from (<input data-select-all>): one click selects all of it.
document.addEventListener("click", function (event) {
  var field = event.target.closest && event.target.closest("input[data-select-all]");
  if (field) { field.select(); }
});

// <button data-print>: opens the browser's print dialog (the printable packet).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("button[data-print]");
  if (button) { window.print(); }
});
