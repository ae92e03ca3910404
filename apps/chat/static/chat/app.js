// The chat page: asks POST /api/v1/chat with stream=true and renders its Server-Sent Events (token..., then
// done or error); lists, opens, renames and deletes the user's conversations; sends thumbs and edited answers
// to the feedback API. Everything from the server goes in the page as text, never as HTML.
"use strict";

(function () {
  const ZERO_UUID = "00000000-0000-0000-0000-000000000000";
  const root = document.getElementById("chat");
  const form = document.getElementById("ask-form");
  const question = document.getElementById("question");
  const twin = document.getElementById("twin");
  const askButton = document.getElementById("ask");
  const status = document.getElementById("status");
  const title = document.getElementById("conversation-title");
  const transcript = document.getElementById("transcript");
  const list = document.getElementById("conversations");
  const listEmpty = document.getElementById("conversations-empty");
  let conversationId = null;
  let busy = false;

  function csrfToken() {
    // The cookie holds the current token (sign-in rotates it); the rendered one covers an HttpOnly cookie.
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : root.dataset.csrfToken;
  }

  function conversationUrl(id) {
    return root.dataset.conversationUrl.replace(ZERO_UUID, id);
  }

  function feedbackUrl(messageId) {
    return root.dataset.feedbackUrl.replace(/\/0\/feedback$/, `/${messageId}/feedback`);
  }

  async function errorFrom(response) {
    let message = `The server answered HTTP ${response.status} without an explanation.`;
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) message = body.error.message;
    } catch (_) {
      // Not the API's JSON envelope (a proxy's page, say): the status line is all there is.
    }
    const retryAfter = response.headers.get("Retry-After");
    if (retryAfter && (response.status === 503 || response.status === 429)) message += ` Try again in ${retryAfter} s.`;
    return message;
  }

  async function api(url, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(await errorFrom(response));
    return response.status === 204 || response.status === 201 ? null : response.json();
  }

  // --- conversations -----------------------------------------------------------------------------------------

  function setConversation(id, name) {
    conversationId = id;
    title.textContent = id ? name || "Untitled conversation" : "New conversation";
    for (const item of list.children) {
      const open = item.querySelector(".conversation-open");
      if (item.dataset.id === id) open.setAttribute("aria-current", "true");
      else open.removeAttribute("aria-current");
    }
  }

  function conversationItem(conversation) {
    const item = document.getElementById("conversation-item").content.firstElementChild.cloneNode(true);
    item.dataset.id = conversation.id;
    const open = item.querySelector(".conversation-open");
    open.textContent = conversation.title || "Untitled conversation";
    open.href = `#${conversation.id}`;
    open.addEventListener("click", (event) => {
      event.preventDefault();
      openConversation(conversation.id);
    });
    const renameForm = item.querySelector(".conversation-rename-form");
    const input = renameForm.querySelector("input");
    const tools = item.querySelector(".conversation-tools");
    const showRename = (shown) => {
      renameForm.hidden = !shown;
      open.hidden = shown;
      tools.hidden = shown;
    };
    item.querySelector(".conversation-rename").addEventListener("click", () => {
      input.value = open.textContent;
      showRename(true);
      input.focus();
      input.select();
    });
    item.querySelector(".conversation-rename-cancel").addEventListener("click", () => {
      showRename(false);
      item.querySelector(".conversation-rename").focus();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") item.querySelector(".conversation-rename-cancel").click();
    });
    renameForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const renamed = await api(conversationUrl(conversation.id), { method: "PATCH", body: { title: input.value } });
        open.textContent = renamed.title;
        if (conversationId === conversation.id) title.textContent = renamed.title;
        showRename(false);
        open.focus();
        status.textContent = `Renamed to “${renamed.title}”.`;
      } catch (error) {
        status.textContent = error.message;
      }
    });
    item.querySelector(".conversation-delete").addEventListener("click", async () => {
      if (!window.confirm(`Delete “${open.textContent}”? This cannot be undone.`)) return;
      try {
        await api(conversationUrl(conversation.id), { method: "DELETE" });
        item.remove();
        listEmpty.hidden = list.children.length > 0;
        if (conversationId === conversation.id) startNew();
        status.textContent = "Conversation deleted.";
        document.getElementById("new-conversation").focus();
      } catch (error) {
        status.textContent = error.message;
      }
    });
    return item;
  }

  async function loadConversations() {
    try {
      const url = `${root.dataset.conversationsUrl}?channel=${encodeURIComponent(root.dataset.channel)}`;
      const conversations = await api(url);
      list.replaceChildren(...conversations.map(conversationItem));
      listEmpty.hidden = conversations.length > 0;
      setConversation(conversationId, title.textContent);
    } catch (error) {
      status.textContent = `Your conversations could not be loaded: ${error.message}`;
    }
  }

  function clearTranscript() {
    transcript.replaceChildren();
  }

  function startNew() {
    clearTranscript();
    setConversation(null);
    question.focus();
  }

  async function openConversation(id) {
    if (busy) return;
    try {
      const conversation = await api(conversationUrl(id));
      clearTranscript();
      let turn = null;
      for (const message of conversation.messages) {
        if (message.role === "user") {
          turn = newTurn(message.content);
        } else if (turn) {
          turn.answer.textContent = message.content;
          finish(turn, { message_id: message.id, citations: message.citations, answer: message.content });
          if (message.incomplete) showError(turn, "This answer was cut short: it is what the twin had written when it stopped.");
          turn = null;
        }
      }
      if (turn) turn.answer.closest(".answer-box").hidden = true; // a question left unanswered
      if ([...twin.options].some((option) => option.value === conversation.author_name)) twin.value = conversation.author_name;
      setConversation(conversation.id, conversation.title);
      status.textContent = `Opened “${conversation.title || "Untitled conversation"}”.`;
      question.focus();
    } catch (error) {
      status.textContent = error.message;
    }
  }

  // --- a question and its answer -------------------------------------------------------------------------------

  function newTurn(text) {
    const element = document.getElementById("turn").content.firstElementChild.cloneNode(true);
    element.querySelector(".asked-text").textContent = text;
    const empty = document.getElementById("transcript-empty");
    if (empty) empty.remove();
    transcript.append(element);
    const pick = (selector) => element.querySelector(selector);
    return {
      element,
      answer: pick(".answer"),
      error: pick(".error"),
      sources: pick(".sources"),
      citations: pick(".citations"),
      feedback: pick(".feedback"),
      messageId: null,
    };
  }

  function followTranscript() {
    transcript.scrollTop = transcript.scrollHeight;
  }

  function showError(turn, message) {
    turn.error.textContent = message;
    turn.error.hidden = false;
    turn.error.scrollIntoView({ block: "nearest" });
  }

  function webLink(url) {
    // Only web addresses become links: a javascript: URL or a file path from a document must not be clickable.
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  function renderCitations(turn, citations) {
    const items = (citations || []).map((citation) => {
      const item = document.createElement("li");
      item.value = citation.n;
      const href = webLink(citation.document_url);
      const link = document.createElement(href ? "a" : "span");
      link.textContent = citation.title || citation.document_url;
      if (href) {
        link.href = href;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
      }
      item.append(link);
      if (!citation.cited) item.append(" (retrieved, not cited)");
      return item;
    });
    turn.citations.replaceChildren(...items);
    turn.sources.hidden = items.length === 0;
  }

  async function sendFeedback(turn, body, done) {
    const note = turn.feedback.querySelector(".feedback-status");
    try {
      await api(feedbackUrl(turn.messageId), { method: "POST", body });
      note.textContent = done;
      return true;
    } catch (error) {
      note.textContent = error.message;
      return false;
    }
  }

  function wireFeedback(turn) {
    const up = turn.feedback.querySelector(".feedback-up");
    const down = turn.feedback.querySelector(".feedback-down");
    const editButton = turn.feedback.querySelector(".feedback-edit");
    const edit = turn.element.querySelector(".edit");
    const editText = edit.querySelector("textarea");
    const rate = async (rating) => {
      if (await sendFeedback(turn, { rating }, rating === "up" ? "Thanks: marked as a good answer." : "Thanks: marked as a bad answer.")) {
        up.setAttribute("aria-pressed", String(rating === "up"));
        down.setAttribute("aria-pressed", String(rating === "down"));
      }
    };
    up.addEventListener("click", () => rate("up"));
    down.addEventListener("click", () => rate("down"));
    editButton.addEventListener("click", () => {
      editText.value = turn.answer.textContent;
      edit.hidden = false;
      editButton.setAttribute("aria-expanded", "true");
      editText.focus();
    });
    const closeEdit = () => {
      edit.hidden = true;
      editButton.setAttribute("aria-expanded", "false");
      editButton.focus();
    };
    edit.querySelector(".edit-cancel").addEventListener("click", closeEdit);
    editText.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeEdit();
    });
    edit.addEventListener("submit", async (event) => {
      event.preventDefault();
      // An edit says the twin's answer was not the one to give: it becomes a preference pair (the edit chosen).
      const body = { rating: "down", edited_answer: editText.value };
      if (await sendFeedback(turn, body, "Thanks: your edit was saved, and will teach the twin.")) {
        up.setAttribute("aria-pressed", "false");
        down.setAttribute("aria-pressed", "true");
        closeEdit();
      }
    });
  }

  function finish(turn, done) {
    turn.answer.textContent = done.answer; // the stored answer is the one of record
    turn.answer.setAttribute("aria-busy", "false");
    renderCitations(turn, done.citations);
    turn.messageId = done.message_id;
    turn.feedback.hidden = false;
    wireFeedback(turn);
  }

  function parseFrame(frame) {
    let event = "message";
    const data = [];
    for (const line of frame.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    return data.length ? { event, data: JSON.parse(data.join("\n")) } : null;
  }

  async function* serverSentEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const event = parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event) yield event;
      }
    }
  }

  async function streamAnswer(turn, body) {
    const response = await fetch(root.dataset.chatUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "text/event-stream, application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      showError(turn, await errorFrom(response));
      return null;
    }
    for await (const { event, data } of serverSentEvents(response)) {
      if (event === "token") {
        turn.answer.append(data.token);
        followTranscript();
        status.textContent = "The twin is answering…";
      } else if (event === "done") {
        finish(turn, data);
        return data;
      } else if (event === "error") {
        showError(turn, (data.error && data.error.message) || "The model failed while answering.");
        return null;
      }
    }
    showError(turn, "The answer stream ended before the answer was complete.");
    return null;
  }

  async function ask() {
    const text = question.value.trim();
    if (busy) return;
    if (!text) {
      status.textContent = "Type a message first.";
      return;
    }
    const body = { message: text, stream: true, max_tokens: Number(root.dataset.maxTokens) };
    if (twin.value) body.author = twin.value;
    if (conversationId) body.conversation_id = conversationId;
    const turn = newTurn(text);
    followTranscript();
    busy = true;
    askButton.disabled = true;
    question.value = "";
    status.textContent = "Sent; waiting for the twin…";
    let done = null;
    try {
      done = await streamAnswer(turn, body);
    } catch (error) {
      showError(turn, `The request failed: ${error.message}`);
    } finally {
      turn.answer.setAttribute("aria-busy", "false");
      if (!done && !question.value) question.value = text; // let them fix it and send again
      status.textContent = done ? "Answered." : "The message was not answered.";
      busy = false;
      askButton.disabled = false;
      question.focus();
    }
    if (done && !conversationId) {
      setConversation(done.conversation_id, text.slice(0, 200));
      await loadConversations();
    } else if (done) {
      await loadConversations(); // the conversation moves to the top: it was just updated
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask();
  });
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  document.getElementById("new-conversation").addEventListener("click", () => {
    startNew();
    status.textContent = "New conversation: the next message starts without history.";
  });
  loadConversations();
})();
