// The operator playground: asks POST /api/v1/chat with stream=true and renders its Server-Sent Events
// (token..., then done or error), the cited sources, and on request the per-node timings of the trace.
// Everything from the server is put in the page as text, never as HTML: answers quote crawled writing.
"use strict";

(function () {
  const ZERO_UUID = "00000000-0000-0000-0000-000000000000";
  const root = document.getElementById("content-main");
  const form = document.getElementById("playground-form");
  const question = document.getElementById("playground-question");
  const author = document.getElementById("playground-author");
  const maxTokens = document.getElementById("playground-max-tokens");
  const askButton = document.getElementById("playground-ask");
  const status = document.getElementById("playground-status");
  const conversationLabel = document.getElementById("playground-conversation");
  const transcript = document.getElementById("transcript");
  const turnTemplate = document.getElementById("playground-turn");
  let conversationId = null;
  let busy = false;
  let turns = 0;

  function csrfToken() {
    // The cookie holds the current token (login rotates it); the rendered one covers an HttpOnly cookie.
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : root.dataset.csrfToken;
  }

  function setConversation(id) {
    conversationId = id;
    conversationLabel.textContent = id ? id.slice(0, 8) : "new";
    conversationLabel.title = id || "";
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
    if (response.status === 503 && retryAfter) message += ` Try again in ${retryAfter} s.`;
    return message;
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

  function followTranscript() {
    // The transcript scrolls on its own: keep the turn being written in sight.
    transcript.scrollTop = transcript.scrollHeight;
  }

  function newTurn(text) {
    const element = turnTemplate.content.firstElementChild.cloneNode(true);
    element.querySelector(".playground-question-text").textContent = text;
    const empty = document.getElementById("transcript-empty");
    if (empty) empty.remove();
    transcript.append(element);
    followTranscript();
    const pick = (selector) => element.querySelector(selector);
    turns += 1;
    pick(".playground-trace").id = `playground-trace-${turns}`;
    pick(".playground-trace-button").setAttribute("aria-controls", `playground-trace-${turns}`);
    return {
      element,
      answer: pick(".playground-answer"),
      error: pick(".playground-error"),
      sources: pick(".playground-sources"),
      citations: pick(".playground-citations"),
      tools: pick(".playground-turn-tools"),
      traceButton: pick(".playground-trace-button"),
      traceAdmin: pick(".playground-trace-admin"),
      trace: pick(".playground-trace"),
      traceId: null,
      traceLoaded: false,
    };
  }

  function showError(turn, message) {
    turn.error.textContent = message;
    turn.error.hidden = false;
    turn.error.scrollIntoView({ block: "nearest" });
  }

  function webLink(url) {
    // Only web addresses become links: a javascript: or file path from a document must not be clickable.
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  function renderCitations(turn, citations) {
    const items = citations.map((citation) => {
      const item = document.createElement("li");
      item.value = citation.n;
      const href = webLink(citation.document_url);
      const title = document.createElement(href ? "a" : "span");
      title.textContent = citation.title || citation.document_url;
      if (href) {
        title.href = href;
        title.rel = "noopener noreferrer";
      }
      const score = document.createElement("span");
      score.className = "playground-score";
      score.textContent = `score ${Number(citation.score).toFixed(3)}`;
      item.append(title, " ", score);
      if (!citation.cited) {
        item.classList.add("playground-uncited");
        item.append(" · retrieved, not cited");
      }
      return item;
    });
    turn.citations.replaceChildren(...items);
    turn.sources.hidden = items.length === 0;
  }

  function tokens(prompt, completion) {
    if (prompt == null && completion == null) return "–";
    return `${prompt ?? "–"} / ${completion ?? "–"}`; // prompt / completion; a node may count only one
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function renderTrace(turn, trace) {
    const rows = trace.spans.map((span) => {
      const row = document.createElement("tr");
      const node = document.createElement("th");
      node.scope = "row";
      node.textContent = span.node;
      row.append(
        node,
        cell(span.duration_ms.toFixed(1), "number"),
        cell(span.model || "–"),
        cell(tokens(span.prompt_tokens, span.completion_tokens), "number"),
      );
      return row;
    });
    turn.trace.querySelector("tbody").replaceChildren(...rows);
    turn.trace.querySelector(".playground-trace-total").textContent = trace.total_ms.toFixed(1);
    turn.trace.querySelector(".playground-trace-model").textContent = trace.model || "–";
    turn.trace.querySelector(".playground-trace-tokens").textContent = tokens(
      trace.prompt_tokens,
      trace.completion_tokens,
    );
    if (trace.admin_url) {
      turn.traceAdmin.href = trace.admin_url;
      turn.traceAdmin.hidden = false;
    }
  }

  async function toggleTrace(turn) {
    const opening = turn.trace.hidden;
    if (opening && !turn.traceLoaded) {
      const url = root.dataset.traceUrl.replace(ZERO_UUID, turn.traceId);
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok) return showError(turn, await errorFrom(response));
        renderTrace(turn, await response.json());
        turn.traceLoaded = true;
      } catch (error) {
        return showError(turn, `The trace could not be loaded: ${error.message}`);
      }
    }
    turn.trace.hidden = !opening;
    turn.traceButton.setAttribute("aria-expanded", String(opening));
    if (opening) turn.trace.scrollIntoView({ block: "nearest" });
  }

  function finish(turn, done) {
    turn.answer.textContent = done.answer; // the stored answer is the one of record
    renderCitations(turn, done.citations);
    setConversation(done.conversation_id);
    turn.traceId = done.trace_id;
    turn.traceButton.addEventListener("click", () => toggleTrace(turn));
    turn.tools.hidden = false;
    followTranscript();
  }

  async function streamAnswer(turn, body) {
    const response = await fetch(root.dataset.chatUrl, {
      method: "POST",
      credentials: "same-origin",
      // JSON too: errors come as the API's JSON envelope, and the API refuses a request that accepts only SSE.
      headers: {
        "Content-Type": "application/json",
        Accept: "text/event-stream, application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      showError(turn, await errorFrom(response));
      return false;
    }
    for await (const { event, data } of serverSentEvents(response)) {
      if (event === "token") {
        turn.answer.append(data.token);
        followTranscript();
        status.textContent = "Streaming…";
      } else if (event === "done") {
        finish(turn, data);
        return true;
      } else if (event === "error") {
        showError(turn, (data.error && data.error.message) || "The model failed while answering.");
        return false;
      }
    }
    showError(turn, "The answer stream ended before the answer was complete.");
    return false;
  }

  async function ask() {
    const text = question.value.trim();
    if (busy) return;
    if (!text) {
      status.textContent = "Type a question first.";
      return;
    }
    const body = { message: text, stream: true, max_tokens: Number(maxTokens.value) };
    if (author.value) body.author = author.value;
    if (conversationId) body.conversation_id = conversationId;
    const turn = newTurn(text);
    busy = true;
    askButton.disabled = true;
    question.value = "";
    status.textContent = "Answering…";
    const started = performance.now();
    let answered = false;
    try {
      answered = await streamAnswer(turn, body);
    } catch (error) {
      showError(turn, `The request failed: ${error.message}`);
    } finally {
      turn.answer.setAttribute("aria-busy", "false");
      if (!turn.answer.textContent) turn.answer.hidden = true;
      if (!answered && !question.value) question.value = text; // let the operator fix it and resend
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      status.textContent = answered ? `Answered in ${seconds} s.` : "The question was not answered.";
      busy = false;
      askButton.disabled = false;
      question.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask();
  });
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit(); // runs the inputs' own validation (max tokens in range, a question)
    }
  });
  document.getElementById("playground-new").addEventListener("click", () => {
    if (conversationId) {
      const divider = document.createElement("p");
      divider.className = "playground-divider";
      divider.textContent = "New conversation";
      transcript.append(divider);
    }
    setConversation(null);
    status.textContent = "New conversation: the next question starts without history.";
    question.focus();
  });
})();
