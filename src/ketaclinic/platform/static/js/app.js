// Small progressive enhancements; every page works without them.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var question = button && button.dataset ? button.dataset.confirm : null;
  if (question && !window.confirm(question)) { event.preventDefault(); }
});
