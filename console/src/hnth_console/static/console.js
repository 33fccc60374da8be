// A page answered with a refusal (`data-refused`: its status is 4xx/5xx): bring the
// first reason into view and give it the keyboard's focus, so the person (and a screen
// reader) meets it where the form is, not at the top of a long page. A page that
// focuses a field itself is left alone.
document.addEventListener("DOMContentLoaded", () => {
  if (!("refused" in document.body.dataset)) return;
  if (document.querySelector("[autofocus]")) return;
  // a form's own reason (`…-error`) before a banner that states the meeting's state
  const first =
    document.querySelector(".error[id$='-error']") ||
    document.querySelector("p.error, [role=alert]");
  if (!first) return;
  if (!first.hasAttribute("tabindex")) first.setAttribute("tabindex", "-1");
  first.scrollIntoView({ block: "center" });
  first.focus({ preventScroll: true });
});
