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

// A long list of endpoints to tick (a province has hundreds, a commune clerk picks a few
// on a phone): a box above it keeps only those whose name or code holds what is typed,
// accents and case aside ("doan ket" finds "Đoàn Kết"); a ticked one always stays.
const plain = (text) =>
  text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/gi, "d").toLowerCase();
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("input.pick-filter")) {
    const labels = [...box.parentElement.querySelectorAll("label.check")];
    box.hidden = false;
    box.addEventListener("input", () => {
      const wanted = plain(box.value.trim());
      for (const label of labels) {
        const ticked = label.querySelector("input:checked") !== null;
        label.hidden = !(ticked || !wanted || plain(label.textContent).includes(wanted));
      }
    });
  }
});

// What was just made and is shown this once (a calendar link): the keyboard's focus on it,
// so a phone opens at it rather than at the top of the page.
document.addEventListener("DOMContentLoaded", () => {
  const made = document.querySelector("[data-shown-once]");
  if (!made) return;
  made.scrollIntoView({ block: "start" });
  made.focus({ preventScroll: true });
});

// A meeting page's live part asks every 15 s, and reloads the page when a decision comes:
// once the person starts typing in one of the page's forms (`data-typing`), it stops
// asking, so nothing typed is lost; the next reload by hand shows the decision.
document.addEventListener("input", (event) => {
  if (event.target.closest("form")) document.body.dataset.typing = "";
});
