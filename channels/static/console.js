/*
 * 12345 热线坐席辅助台 — the operators' console. Plain JS, no build.
 *
 * Suggestions come over the assist WebSocket (/api/assist/ws): the caller's words are sent a
 * moment after the operator stops typing, each with an increasing id; answers to older ids are
 * ignored. The handoff desk is the REST API under /api/staff/desk, the 免费代办 requests the one under
 * /api/staff/agency-requests (a whole phone is fetched only when asked for, audited, and kept only
 * in memory). Everything shown is built with
 * textContent, never innerHTML: transcripts and answers may contain anything.
 *
 * Signing in sets an HttpOnly session cookie the page cannot read; the page keeps in memory only
 * who is signed in and the CSRF token every write sends back (X-CSRF-Token). A reload asks
 * /api/staff/me for both. Without input for the session's idle time the page signs out itself:
 * its own polling of the desk must not keep an unattended console signed in.
 */
(() => {
  "use strict";

  const DEBOUNCE_MS = 350;
  const DESK_REFRESH_MS = 5000;
  const ROLE_LABELS = { user: "群众", bot: "贵博士", agent: "人工客服" };
  const CHANNEL_LABELS = { web: "网页", wechat: "微信", window: "窗口" };
  const INTENT_LABELS = {
    ask_materials: "问材料", ask_eligibility: "问条件", ask_process: "问流程", ask_fee: "问收费",
    ask_time_limit: "问时限", ask_location: "问地点", ask_policy: "问政策", check_status: "查进度",
    book_appointment: "预约", cancel_appointment: "取消预约", request_human: "转人工", complaint: "投诉",
    feedback: "评价", greet: "问候", goodbye: "再见", thank: "感谢", inform: "告知信息",
    affirm: "肯定", deny: "否定", bot_challenge: "问是否机器人", out_of_scope: "超出范围",
  };
  const ENTITY_LABELS = {
    service: "事项", district: "县区", hall: "大厅", date: "日期", time: "时间", age: "年龄",
    application_number: "办件编号", id_number: "身份证号", phone: "手机号", person_name: "姓名",
  };

  const AGENT_ROLE = "agent";
  const IDLE_CHECK_MS = 30000;

  const $ = (id) => document.getElementById(id);
  let profile = null; // {login, display_name, roles, csrf_token, idle_minutes, …} while signed in
  let lastInput = Date.now();

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function time(iso) {
    return String(iso || "").replace("T", " ").slice(5, 16);
  }

  // ---- REST -----------------------------------------------------------------------------------
  class Unauthorized extends Error {}

  async function api(method, path, body) {
    const headers = {};
    if (method !== "GET" && profile) headers["X-CSRF-Token"] = profile.csrf_token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new Error("网络异常，请稍后再试。");
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const detail = data && data.detail;
      const message = (detail && (detail.message || (typeof detail === "string" && detail))) || `请求失败（${response.status}）`;
      throw response.status === 401 ? new Unauthorized(message) : new Error(message);
    }
    return data;
  }

  // ---- signing in and out ----------------------------------------------------------------------
  function signedIn(me) {
    if (!me.roles.includes(AGENT_ROLE)) {
      api("POST", "/api/staff/logout").catch(() => {});
      profile = null;
      throw new Error("您的账号没有“坐席”角色，不能使用坐席辅助台。");
    }
    profile = me;
    lastInput = Date.now();
    start();
  }

  async function login(name, password) {
    profile = null;
    signedIn(await api("POST", "/api/staff/login", { login: name, password }));
  }

  // Back to the sign-in form; tellServer when the session may still be alive (the 退出 button, idling).
  function logout(message, tellServer = false) {
    if (tellServer && profile) api("POST", "/api/staff/logout").catch(() => {});
    profile = null;
    stopDesk();
    if (socket) {
      socket.onclose = null;
      socket.close();
      socket = null;
    }
    $("workspace").hidden = true;
    $("login").hidden = false;
    $("logout").hidden = true;
    $("agent-name").textContent = "";
    setConnection("未登录", false);
    $("login-error").textContent = message || "";
    $("login-name").focus();
  }

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("login-name").value.trim();
    const password = $("login-password").value;
    if (!name || !password) {
      $("login-error").textContent = "请填写登录名和密码。";
      return;
    }
    $("login-error").textContent = "";
    $("login-submit").disabled = true;
    try {
      await login(name, password);
      $("login-password").value = "";
    } catch (err) {
      $("login-error").textContent = err.message;
      $("login-password").select();
    } finally {
      $("login-submit").disabled = false;
    }
  });

  $("logout").addEventListener("click", () => logout("", true));

  for (const kind of ["keydown", "pointerdown"]) {
    document.addEventListener(kind, () => { lastInput = Date.now(); }, true);
  }
  setInterval(() => {
    if (profile && Date.now() - lastInput >= profile.idle_minutes * 60000) {
      logout("闲置时间过长，已自动退出，请重新登录。", true);
    }
  }, IDLE_CHECK_MS);

  function start() {
    $("login").hidden = true;
    $("workspace").hidden = false;
    $("logout").hidden = false;
    $("agent-name").textContent = `坐席：${profile.display_name}（${profile.login}）`;
    connect();
    startDesk();
    $("utterance").focus();
  }

  function setConnection(text, online) {
    $("connection").textContent = text;
    $("connection").classList.toggle("online", online);
  }

  // ---- 免费代办 requests: /api/staff/agency-requests ----------------------------------------------
  const OPEN_AGENCY = new Set(["received", "assigned", "in_progress"]);
  const revealed = new Map(); // tracking number → whole phone, kept only in this page's memory

  async function agencyCall(fn) {
    try {
      const result = await fn();
      $("agency-error").textContent = "";
      return result;
    } catch (err) {
      if (err instanceof Unauthorized) logout(err.message);
      else $("agency-error").textContent = err.message;
      return null;
    }
  }

  async function refreshAgency() {
    const items = await agencyCall(() => api("GET", "/api/staff/agency-requests?limit=200"));
    if (!items) return;
    // Re-rendering would throw away what the operator is typing; skip while they are in the list.
    const active = document.activeElement;
    if (active && $("agency").contains(active)) return;
    const open = items.filter((view) => OPEN_AGENCY.has(view.status));
    $("agency").replaceChildren(
      ...(open.length ? open.map(agencyItem) : [h("li", { class: "empty" }, "暂无未办结的代办申请")]),
    );
    $("agency-count").textContent = String(open.length);
  }

  function agencyItem(view) {
    const number = view.tracking_number;
    const input = h("input", {
      type: "text", maxlength: 60, placeholder: "代办员姓名 / 取消原因", "aria-label": `${number} 代办员姓名或取消原因`,
    });
    const change = (status, extra) => () => changeAgency(number, status, extra());
    const buttons = [];
    if (view.status !== "in_progress") {
      const label = view.status === "received" ? "分派" : "改派";
      buttons.push(h("button", { type: "button", onclick: change("assigned", () => ({ agent: input.value.trim() })) }, label));
    }
    if (view.status === "assigned") {
      buttons.push(h("button", { type: "button", class: "secondary", onclick: change("in_progress", () => ({})) }, "开始代办"));
    }
    if (view.status === "in_progress") {
      buttons.push(confirmed("办结", "确认办结？", "", change("done", () => ({}))));
    }
    buttons.push(confirmed("取消申请", "确认取消？", "secondary", change("cancelled", () => ({ note: input.value.trim() }))));
    const phone = revealed.get(number);
    const contact = phone
      ? h("span", { class: "phone" }, `手机 ${phone}（查看已留痕）`)
      : h("button", { type: "button", class: "secondary", onclick: () => revealPhone(number) }, "查看完整手机号");
    const agent = view.agent ? `（${view.agent}）` : "";
    return h(
      "li",
      {},
      h("span", { class: "ticket" }, `${number} · ${view.subject_name}`),
      h("p", { class: "meta" }, `${view.district}${view.town} · ${view.name_masked} ${view.phone_masked} · ${view.status_label}${agent} · ${time(view.created_at)}`),
      view.note ? h("p", { class: "meta" }, `群众补充：${view.note}`) : null,
      h("div", { class: "agency-actions" }, contact, input, ...buttons),
    );
  }

  // Finishing or cancelling cannot be undone: the first click asks, the second does it.
  function confirmed(label, question, cls, act) {
    const button = h("button", { type: "button", class: cls || null }, label);
    button.addEventListener("click", () => {
      if (button.dataset.armed) return act();
      button.dataset.armed = "1";
      button.textContent = question;
      return undefined;
    });
    button.addEventListener("blur", () => {
      delete button.dataset.armed;
      button.textContent = label;
    });
    return button;
  }

  async function changeAgency(number, status, extra) {
    const view = await agencyCall(() =>
      api("POST", `/api/staff/agency-requests/${encodeURIComponent(number)}/status`, { status, ...extra }),
    );
    if (!view) return; // the reason is shown; what was typed stays
    if (!OPEN_AGENCY.has(view.status)) revealed.delete(number);
    document.activeElement.blur();
    await refreshAgency();
  }

  async function revealPhone(number) {
    const contact = await agencyCall(() => api("POST", `/api/staff/agency-requests/${encodeURIComponent(number)}/phone`));
    if (contact) revealed.set(number, contact.phone);
    document.activeElement.blur();
    await refreshAgency();
  }

  // ---- suggestions over the WebSocket ----------------------------------------------------------
  let socket = null;
  let retryMs = 1000;
  let lastId = 0;
  let pendingText = "";
  let debounce = null;

  function connect() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/assist/ws`;
    socket = new WebSocket(url);
    setConnection("正在连接…", false);
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "ready") {
        retryMs = 1000;
        setConnection("已连接", true);
        if (pendingText) sendUtterance(pendingText);
      } else if (message.type === "suggestion" && message.id === lastId) {
        renderSuggestion(message);
      } else if (message.type === "error" && (message.id === lastId || message.id === null)) {
        renderError(message.message);
      }
    };
    socket.onclose = (event) => {
      socket = null;
      if (event.code === 1008) {
        logout(event.reason || "登录已过期，请重新登录。");
        return;
      }
      setConnection(`连接中断，${Math.round(retryMs / 1000)} 秒后重连…`, false);
      setTimeout(() => profile && !socket && connect(), retryMs);
      retryMs = Math.min(retryMs * 2, 15000);
    };
  }

  function sendUtterance(text) {
    pendingText = text;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    lastId += 1;
    $("suggestion").setAttribute("aria-busy", "true");
    socket.send(JSON.stringify({ type: "utterance", id: lastId, text }));
  }

  $("utterance").addEventListener("input", () => {
    clearTimeout(debounce);
    const text = $("utterance").value.trim();
    if (!text) {
      pendingText = "";
      lastId += 1; // drops any answer still on its way
      clearSuggestion();
      return;
    }
    debounce = setTimeout(() => sendUtterance(text), DEBOUNCE_MS);
  });

  $("utterance").addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      $("utterance").value = "";
      $("utterance").dispatchEvent(new Event("input"));
    }
  });

  function clearSuggestion() {
    const panel = $("suggestion");
    panel.setAttribute("aria-busy", "false");
    panel.replaceChildren(h("p", { class: "placeholder" }, "输入来电人的问题后，这里显示识别结果、相关指南和可照读的答复。"));
  }

  function renderError(text) {
    const panel = $("suggestion");
    panel.setAttribute("aria-busy", "false");
    panel.replaceChildren(h("p", { class: "error", role: "alert" }, text));
  }

  function nluBlock(s) {
    const nlu = s.nlu;
    if (!nlu) return h("p", { class: "nlu-note" }, s.nlu_error || "没有语义解析结果。");
    const intent = nlu.intent ? `${INTENT_LABELS[nlu.intent] || nlu.intent}（${nlu.intent}）` : "未识别";
    const confidence = typeof nlu.confidence === "number" ? `${Math.round(nlu.confidence * 100)}%` : "—";
    const entities = (nlu.entities || []).map((e) => h("span", { class: "chip" }, `${ENTITY_LABELS[e.entity] || e.entity}：${e.value}`));
    return h(
      "dl",
      { class: "nlu", "aria-label": "语义解析" },
      h("dt", {}, "意图"), h("dd", { class: "intent" }, intent),
      h("dt", {}, "置信度"), h("dd", {}, confidence),
      h("dt", {}, "实体"), h("dd", { class: "entities" }, entities.length ? entities : "无"),
    );
  }

  // The materials checklist as a list, between the lines before and after its numbered items.
  function readout(a) {
    const lines = a.text.split("\n");
    const numbered = (line) => /^\d+\.\s/.test(line);
    const first = lines.findIndex(numbered);
    if (!a.materials.length || first < 0) return h("p", { class: "readout" }, a.text);
    const last = lines.length - 1 - [...lines].reverse().findIndex(numbered);
    const after = lines.slice(last + 1).join("\n");
    return [
      h("p", { class: "readout" }, lines.slice(0, first).join("\n")),
      h("ol", { class: "materials", "aria-label": "材料清单" }, a.materials.map((m) => h("li", {}, m))),
      after ? h("p", { class: "readout" }, after) : null,
    ];
  }

  function answerBlock(a) {
    const useAsReply = h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: () => {
          if ($("conversation").hidden) return;
          const box = $("reply-text");
          box.value = `${a.text}\n${a.citation}`;
          box.focus();
        },
      },
      "填入会话回复",
    );
    return h(
      "section",
      { class: "answer", "aria-labelledby": "answer-title" },
      h("h3", { id: "answer-title" }, "可照读的答复", h("span", { class: "chip" }, `${a.title} · ${a.aspect_label}`)),
      readout(a),
      h("p", { class: "citation" }, a.citation),
      a.notice ? h("p", { class: "notice" }, a.notice) : null,
      h("div", { class: "actions" }, useAsReply),
    );
  }

  function hitsBlock(s) {
    if (!s.hits.length) return null;
    return h(
      "section",
      { class: s.confident ? "hits" : "hits unsure", "aria-labelledby": "hits-title" },
      h("h3", { id: "hits-title" }, s.confident ? "相关指南与政策" : "相关度不高的结果（仅供参考，勿照读）"),
      h(
        "ol",
        {},
        s.hits.map((hit) =>
          h("li", {}, h("span", { class: "title" }, hit.title), " ", h("span", { class: "section" }, `· ${hit.section_label || hit.section}`), " ",
            h("span", { class: "score" }, `得分 ${hit.score.toFixed(3)}`)),
        ),
      ),
    );
  }

  function renderSuggestion(s) {
    const panel = $("suggestion");
    panel.setAttribute("aria-busy", "false");
    panel.replaceChildren(
      nluBlock(s),
      s.answer ? answerBlock(s.answer) : h("p", { class: "not-sure", role: "alert" }, s.not_sure || "没有把握。"),
      hitsBlock(s),
    );
  }

  // ---- the handoff desk ------------------------------------------------------------------------
  let deskTimer = null;
  let current = null; // ticket shown in the conversation pane

  function startDesk() {
    stopDesk();
    refreshDesk();
    refreshAgency();
    deskTimer = setInterval(() => {
      refreshDesk();
      refreshAgency();
    }, DESK_REFRESH_MS);
  }

  function stopDesk() {
    clearInterval(deskTimer);
    deskTimer = null;
    current = null;
    revealed.clear();
    $("conversation").hidden = true;
  }

  async function deskCall(fn) {
    try {
      const result = await fn();
      $("desk-error").textContent = "";
      return result;
    } catch (err) {
      if (err instanceof Unauthorized) logout(err.message);
      else $("desk-error").textContent = err.message;
      return null;
    }
  }

  function ticketItem(view, mine) {
    const who = CHANNEL_LABELS[view.channel] || view.channel;
    const last = [...view.transcript].reverse().find((m) => m.role === "user");
    const action = mine
      ? h("button", { type: "button", class: "secondary", onclick: () => openConversation(view.ticket) }, `查看 ${view.ticket}`)
      : h("button", { type: "button", onclick: () => claim(view.ticket) }, `接入 ${view.ticket}`);
    return h(
      "li",
      { class: view.ticket === current ? "current" : "" },
      h("span", { class: "ticket" }, view.ticket),
      h("p", { class: "meta" }, `${who} · ${time(mine ? view.claimed_at : view.created_at)}${view.reason ? ` · ${view.reason}` : ""}`),
      last ? h("p", { class: "meta" }, `“${last.text.slice(0, 40)}”`) : null,
      action,
    );
  }

  function fillList(id, items, mine, emptyText) {
    $(id).replaceChildren(...(items.length ? items.map((v) => ticketItem(v, mine)) : [h("li", { class: "empty" }, emptyText)]));
    $(`${id}-count`).textContent = String(items.length);
  }

  async function refreshDesk() {
    const desk = await deskCall(() => api("GET", "/api/staff/desk/handoffs"));
    if (!desk) return;
    // Re-rendering would steal focus from a button the operator is on; skip while it is in a list.
    const active = document.activeElement;
    if (active && ($("waiting").contains(active) || $("mine").contains(active))) return;
    fillList("waiting", desk.waiting, false, "暂无等待的会话");
    fillList("mine", desk.mine, true, "暂无");
    const open = current && desk.mine.find((view) => view.ticket === current);
    if (open) showConversation(open, false);
  }

  async function claim(ticket) {
    const view = await deskCall(() => api("POST", `/api/staff/desk/handoffs/${encodeURIComponent(ticket)}/claim`));
    await refreshDesk();
    if (view) showConversation(view);
  }

  async function openConversation(ticket) {
    const view = await deskCall(() => api("GET", `/api/staff/desk/handoffs/${encodeURIComponent(ticket)}`));
    if (view) showConversation(view);
  }

  function showConversation(view, focus = true) {
    current = view.ticket;
    $("conversation").hidden = false;
    $("conversation-title").textContent = `会话 ${view.ticket}`;
    $("conversation-meta").textContent =
      `${CHANNEL_LABELS[view.channel] || view.channel} · 群众 ${view.resident} · ${view.status === "claimed" ? `${view.agent} 已接入` : view.status}`;
    $("transcript").replaceChildren(
      ...view.transcript.map((m) =>
        h("li", { class: `role-${m.role}` }, h("span", { class: "role" }, `${ROLE_LABELS[m.role] || m.role}${m.at ? ` ${time(m.at)}` : ""}：`), m.text),
      ),
    );
    $("transcript").scrollTop = $("transcript").scrollHeight;
    for (const li of document.querySelectorAll(".tickets li")) li.classList.toggle("current", li.querySelector(".ticket")?.textContent === current);
    if (focus) $("reply-text").focus();
  }

  $("reply-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("reply-text").value.trim();
    if (!current || !text) return;
    $("reply-send").disabled = true;
    const sent = await deskCall(() =>
      api("POST", `/api/staff/desk/handoffs/${encodeURIComponent(current)}/reply`, { text }),
    );
    $("reply-send").disabled = false;
    if (!sent) return;
    $("reply-text").value = "";
    await openConversation(current);
  });

  $("reply-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("reply-form").requestSubmit();
  });

  $("close-conversation").addEventListener("click", async () => {
    if (!current) return;
    const closed = await deskCall(() =>
      api("POST", `/api/staff/desk/handoffs/${encodeURIComponent(current)}/close`, { farewell: true }),
    );
    if (!closed) return;
    current = null;
    $("conversation").hidden = true;
    await refreshDesk();
    $("utterance").focus();
  });

  // ---- start -----------------------------------------------------------------------------------
  api("GET", "/api/staff/me")
    .then(signedIn)
    .catch((err) => logout(err instanceof Unauthorized ? "" : err.message));
})();
