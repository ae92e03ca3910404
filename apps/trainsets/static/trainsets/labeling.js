// Keyboard shortcuts for the pair labeling screen. The page works without this script: its buttons submit
// the form. Keys: 1/A and 2/B pick an answer, T tie, X both bad, S skip, E edit, Esc leaves the editor.
(function () {
  "use strict";

  const form = document.getElementById("labeling-form");
  if (!form) return;

  const buttons = new Map();
  form.querySelectorAll("button[data-keys]").forEach((button) => {
    button.dataset.keys.split(" ").forEach((key) => buttons.set(key, button));
  });
  const editors = [...form.querySelectorAll(".labeling-edit")];
  let submitted = false;

  function isTyping(target) {
    return target instanceof Element && target.closest("textarea, input, select, [contenteditable]") !== null;
  }

  function startEditing() {
    editors.forEach((editor) => { editor.open = true; });
    const textarea = editors[0].querySelector("textarea");
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (isTyping(event.target)) {
      // Letters belong to the text being edited; Esc hands the keys back to the shortcuts.
      if (event.key === "Escape") {
        event.preventDefault();
        event.target.blur();
      }
      return;
    }
    const key = event.key.toLowerCase();
    if (key === "e") {
      event.preventDefault();
      startEditing();
      return;
    }
    const button = buttons.get(key);
    if (button && !submitted) {
      event.preventDefault();
      button.click(); // submits with the button's name and value, exactly as a mouse click would
    }
  });

  // One verdict per page: a key held down or pressed twice must not post twice.
  form.addEventListener("submit", (event) => {
    if (submitted) {
      event.preventDefault();
      return;
    }
    submitted = true;
    form.classList.add("labeling-sending");
  });

  // Mark an edited answer, so the annotator sees which text their verdict will carry.
  editors.forEach((editor) => {
    const textarea = editor.querySelector("textarea");
    const shown = textarea.value.trim();
    const answer = editor.closest(".labeling-answer");
    const update = () => answer.classList.toggle("labeling-edited", textarea.value.trim() !== shown);
    textarea.addEventListener("input", update);
  });
})();
