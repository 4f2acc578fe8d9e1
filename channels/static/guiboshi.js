/*
 * 贵博士 · 遵义市政务服务智能助手 — the embeddable web chat widget.
 *
 * Embed with one tag:  <script src="https://GATEWAY/widget/guiboshi.js" defer></script>
 * The script calls the gateway it was loaded from. Plain JS, no build, nothing fetched from
 * elsewhere. Everything the widget shows is built with textContent (never innerHTML), because
 * messages, titles and API errors may contain anything. It lives in a shadow root so the host
 * page's CSS cannot reach it, nor its CSS the page.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || window.__guiboshiLoaded) return;
  window.__guiboshiLoaded = true;

  const GATEWAY = new URL(script.src, location.href).origin;
  const KEY = "guiboshi:v1:";
  const MAX_HISTORY = 200;
  const CHAT_TIMEOUT_MS = 60000;
  const API_TIMEOUT_MS = 15000;
  const BOOKING_DAYS = 14;
  const WEEKDAYS = "日一二三四五六";
  const FALLBACK = "网络异常，请稍后再试；急事请拨打政务服务热线 12345。";
  const SUGGESTIONS = ["高龄补贴要带哪些材料", "新农合今年交好多钱", "查办件进度", "啥子叫容缺受理"];

  // ---- storage: the conversation survives page reloads --------------------------------------
  const store = {
    get(name, fallback) {
      try {
        const raw = localStorage.getItem(KEY + name);
        return raw === null ? fallback : JSON.parse(raw);
      } catch {
        return fallback;
      }
    },
    set(name, value) {
      try {
        localStorage.setItem(KEY + name, JSON.stringify(value));
      } catch {
        /* private mode or quota: the widget still works, it just forgets on reload */
      }
    },
  };

  function randomHex(bytes) {
    const data = new Uint8Array(bytes);
    crypto.getRandomValues(data); // unlike randomUUID, available on plain-http pages too
    return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function senderId() {
    let sender = store.get("sender", null);
    if (typeof sender !== "string" || !/^web:[A-Za-z0-9_.:@-]{1,120}$/.test(sender)) {
      sender = `web:${randomHex(16)}`;
      store.set("sender", sender);
    }
    return sender;
  }

  const state = {
    sender: senderId(),
    history: (() => {
      const saved = store.get("history", []);
      return Array.isArray(saved) ? saved.filter((e) => e && typeof e === "object") : [];
    })(),
    elder: store.get("elder", false) === true,
    open: store.get("open", false) === true,
    busy: false,
  };

  function save() {
    if (state.history.length > MAX_HISTORY) state.history.splice(0, state.history.length - MAX_HISTORY);
    store.set("history", state.history);
  }

  // ---- DOM helper: text is always a text node ------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "checked" || key === "value" || key === "disabled" || key === "selected") el[key] = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url, GATEWAY);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  // ---- HTTP ---------------------------------------------------------------------------------
  async function api(method, path, body, timeoutMs = API_TIMEOUT_MS) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let response;
    try {
      response = await fetch(GATEWAY + path, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        credentials: "omit",
      });
    } catch {
      throw new Error(FALLBACK);
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (response.status < 200 || response.status >= 300) {
      const detail = data && data.detail;
      const message =
        typeof detail === "string" ? detail : detail && typeof detail.message === "string" ? detail.message : null;
      throw new Error(message || `${FALLBACK}（错误 ${response.status}）`);
    }
    return data;
  }

  // ---- the shell: launcher and panel ---------------------------------------------------------
  const host = h("div", { id: "guiboshi-widget" });
  const root = host.attachShadow({ mode: "open" });
  root.append(h("link", { rel: "stylesheet", href: `${GATEWAY}/widget/guiboshi.css` }));

  const launcher = h(
    "button",
    {
      type: "button",
      class: "gb-launcher",
      "aria-label": "打开贵博士智能客服",
      "aria-expanded": "false",
      "aria-controls": "gb-panel",
      onclick: () => openPanel(true),
    },
    h("span", { class: "gb-avatar", "aria-hidden": "true" }, "贵"),
    h("span", { class: "gb-launcher-text" }, "贵博士"),
  );

  const elderButton = h(
    "button",
    {
      type: "button",
      class: "gb-tool gb-elder-toggle",
      "aria-pressed": String(state.elder),
      title: "大字号、高对比度",
      onclick: () => setElder(!state.elder),
    },
    "适老化",
  );
  const humanButton = h(
    "button",
    { type: "button", class: "gb-tool gb-human", "aria-label": "转人工客服", onclick: () => send("转人工") },
    "转人工",
  );
  const closeButton = h(
    "button",
    { type: "button", class: "gb-tool gb-close", "aria-label": "关闭对话窗口", onclick: () => closePanel() },
    "×",
  );

  const list = h("div", {
    class: "gb-messages",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": "对话记录",
    tabindex: "0",
  });
  const typing = h(
    "div",
    { class: "gb-typing", role: "status", hidden: true },
    h("span", { class: "gb-dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")),
    h("span", { class: "gb-sr" }, "贵博士正在输入…"),
  );
  const input = h("input", {
    type: "text",
    class: "gb-input",
    "aria-label": "输入您想咨询的问题",
    placeholder: "请输入问题，如：高龄补贴要带哪些材料",
    maxlength: "500",
    autocomplete: "off",
    enterkeyhint: "send",
  });
  const sendButton = h("button", { type: "submit", class: "gb-send", "aria-label": "发送" }, "发送");
  const composer = h(
    "form",
    {
      class: "gb-composer",
      onsubmit: (event) => {
        event.preventDefault();
        const text = input.value;
        if (text.trim()) {
          input.value = "";
          send(text);
        }
      },
    },
    input,
    sendButton,
  );

  const panel = h(
    "section",
    {
      id: "gb-panel",
      class: "gb-panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "gb-title",
      "aria-describedby": "gb-subtitle",
      hidden: true,
    },
    h(
      "header",
      { class: "gb-header" },
      h("span", { class: "gb-avatar", "aria-hidden": "true" }, "贵"),
      h(
        "div",
        { class: "gb-heading" },
        h("h2", { id: "gb-title" }, "贵博士"),
        h("p", { id: "gb-subtitle" }, "遵义市政务服务智能助手"),
      ),
      h("div", { class: "gb-tools" }, elderButton, humanButton, closeButton),
    ),
    list,
    typing,
    composer,
    h("p", { class: "gb-footnote" }, "智能助手的回答仅供参考（示例数据），以贵州政务服务网公布为准。"),
  );

  const shell = h("div", { class: "gb" }, launcher, panel);
  root.append(shell);

  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closePanel();
    }
  });

  function openPanel(focus) {
    panel.hidden = false;
    shell.classList.add("gb-is-open");
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    store.set("open", true);
    scrollToEnd();
    if (focus) input.focus();
  }

  function closePanel() {
    panel.hidden = true;
    shell.classList.remove("gb-is-open");
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    store.set("open", false);
    launcher.focus();
  }

  function setElder(on) {
    state.elder = on;
    store.set("elder", on);
    shell.classList.toggle("gb-elder", on);
    elderButton.setAttribute("aria-pressed", String(on));
    elderButton.setAttribute("aria-label", on ? "关闭适老化模式" : "开启适老化模式（大字号、高对比度）");
  }

  function setBusy(busy) {
    state.busy = busy;
    typing.hidden = !busy;
    list.setAttribute("aria-busy", String(busy));
    if (busy) scrollToEnd();
  }

  function scrollToEnd() {
    requestAnimationFrame(() => {
      list.scrollTop = list.scrollHeight;
    });
  }

  // ---- rendering ----------------------------------------------------------------------------
  function textBlock(text) {
    return text ? h("p", { class: "gb-text" }, text) : null;
  }

  function quickReplies(buttons) {
    const valid = (buttons || []).filter((b) => b && typeof b.title === "string" && typeof b.payload === "string");
    if (!valid.length) return null;
    return h(
      "div",
      { class: "gb-replies", role: "group", "aria-label": "快捷回复" },
      valid.map((b) =>
        h("button", { type: "button", class: "gb-reply", onclick: () => send(b.payload, b.title) }, b.title),
      ),
    );
  }

  function sourceLine(source) {
    const url = safeUrl(source.url);
    const title = `《${source.title}》`;
    const parts = [
      source.section,
      source.department,
      source.updated ? `更新日期 ${source.updated}` : null,
      source.notice,
    ].filter((p) => typeof p === "string" && p);
    return h(
      "p",
      { class: "gb-source" },
      "来源：",
      url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, title) : title,
      parts.map((p) => [" · ", p]),
    );
  }

  function materialChecklist(card, entry) {
    entry.checked = Array.isArray(entry.checked) ? entry.checked : [];
    const total = card.materials.length;
    const progress = h("p", { class: "gb-progress", "aria-live": "polite" });
    const updateProgress = () => {
      progress.textContent = `已备齐 ${entry.checked.length}/${total} 项`;
    };
    const items = card.materials.map((m, i) => {
      const id = `gb-m-${entry.id}-${i}`;
      const marks = [
        m.form ? h("span", { class: "gb-mark gb-form" }, m.form) : null,
        m.copies ? h("span", { class: "gb-mark" }, `${m.copies}份`) : null,
        m.required === false ? h("span", { class: "gb-mark gb-optional" }, m.condition ? `${m.condition}时提供` : "按需提供") : null,
        m.e_license ? h("span", { class: "gb-mark gb-elicense", title: "可用电子证照，不带实体证件" }, "可用电子证照") : null,
        m.deferrable ? h("span", { class: "gb-mark gb-defer", title: "可容缺受理，办结前补交" }, "可容缺后补") : null,
      ];
      const box = h("input", {
        type: "checkbox",
        id,
        checked: entry.checked.includes(i),
        onchange: (event) => {
          const set = new Set(entry.checked);
          if (event.target.checked) set.add(i);
          else set.delete(i);
          entry.checked = [...set].sort((a, b) => a - b);
          item.classList.toggle("gb-done", event.target.checked);
          updateProgress();
          save();
        },
      });
      const item = h(
        "li",
        { class: entry.checked.includes(i) ? "gb-material gb-done" : "gb-material" },
        box,
        h(
          "label",
          { for: id },
          h("span", { class: "gb-num" }, `${i + 1}.`),
          " ",
          h("span", { class: "gb-mname" }, m.name),
          h("span", { class: "gb-marks" }, marks),
        ),
      );
      return item;
    });
    updateProgress();
    return h(
      "div",
      { class: "gb-card" },
      h("ol", { class: "gb-checklist", "aria-label": `「${card.service}」材料清单，备齐一项勾选一项` }, items),
      progress,
    );
  }

  function ratingBlock(entry, card) {
    const box = h("div", { class: "gb-rating", role: "group", "aria-label": "为这个回答评分" });
    const thank = (score) => {
      box.replaceChildren(h("p", { class: "gb-thanks", role: "status" }, `感谢您的评价（${score}分）！`));
    };
    if (entry.rated) {
      thank(entry.rated);
      return box;
    }
    const error = h("p", { class: "gb-error", role: "alert" });
    const rate = async (score, buttons) => {
      buttons.forEach((b) => (b.disabled = true));
      error.textContent = "";
      try {
        await api("POST", "/api/services/ratings", {
          sender_id: state.sender,
          turn_id: entry.turn,
          score,
          guide_id: card.guide_id || null,
          channel: "web",
        });
        entry.rated = score;
        save();
        thank(score);
      } catch (err) {
        error.textContent = err.message;
        buttons.forEach((b) => (b.disabled = false));
      }
    };
    const buttons = [1, 2, 3, 4, 5].map((n) =>
      h("button", { type: "button", class: "gb-star", "aria-label": `${n}分`, title: `${n}分` }, "★"),
    );
    buttons.forEach((b, i) => b.addEventListener("click", () => rate(i + 1, buttons)));
    append(box, [h("span", { class: "gb-rating-label" }, "这个回答有帮助吗？"), h("span", { class: "gb-stars" }, buttons), error]);
    return box;
  }

  function renderBot(entry) {
    const payload = entry.payload && typeof entry.payload === "object" ? entry.payload : null;
    const card = payload && payload.type === "guide_card" ? payload : null;
    const sources = Array.isArray(entry.sources) ? entry.sources.filter((s) => s && s.title) : [];
    // The text carries its own citation for text-only channels; here the source line shows it.
    let lines = String(entry.text || "").split("\n");
    if (sources.length) lines = lines.filter((line) => !line.startsWith("来源："));

    const bubble = h("div", { class: entry.error ? "gb-msg gb-bot gb-failed" : "gb-msg gb-bot" });
    if (card && Array.isArray(card.materials) && card.materials.length) {
      const numbered = /^\d+\.\s/;
      const first = lines.findIndex((l) => numbered.test(l));
      const last = lines.length - 1 - [...lines].reverse().findIndex((l) => numbered.test(l));
      const before = first < 0 ? lines : lines.slice(0, first);
      const after = first < 0 ? [] : lines.slice(last + 1);
      append(bubble, [textBlock(before.join("\n")), materialChecklist(card, entry), textBlock(after.join("\n"))]);
    } else {
      append(bubble, [textBlock(lines.join("\n"))]);
    }
    if (payload && payload.type === "handoff" && payload.ticket) {
      append(bubble, [h("p", { class: "gb-ticket" }, `工单号：${payload.ticket}`)]);
    }
    if (sources.length) append(bubble, [h("div", { class: "gb-sources" }, sources.map(sourceLine))]);
    append(bubble, [quickReplies(entry.buttons)]);
    if (card && entry.turn) append(bubble, [ratingBlock(entry, card)]);
    return row("bot", bubble);
  }

  function renderBooking(entry) {
    const b = entry.booking || {};
    const start = String(b.start || "");
    const end = String(b.end || "");
    const ics = safeUrl(`/api/services/appointments/${encodeURIComponent(b.code || "")}/calendar.ics`);
    return row(
      "bot",
      h(
        "div",
        { class: "gb-msg gb-bot gb-confirmation" },
        h("p", { class: "gb-text" }, "预约成功！请凭预约码按时到大厅取号办理。"),
        h("p", { class: "gb-code" }, "预约码：", h("strong", {}, b.code || "")),
        h(
          "dl",
          { class: "gb-facts" },
          [
            ["事项", b.service_name],
            ["大厅", b.hall_name],
            ["窗口", b.window],
            ["时间", `${start.slice(0, 10)} ${start.slice(11, 16)}—${end.slice(11, 16)}`],
            ["地址", b.hall_address],
            ["电话", b.hall_phone],
            ["预约人", `${b.name_masked || ""} ${b.phone_masked || ""}`],
          ].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v || "")]),
        ),
        ics ? h("a", { class: "gb-ics", href: ics, download: `appointment-${b.code}.ics` }, "添加到日历（.ics 文件）") : null,
      ),
    );
  }

  function row(who, bubble) {
    return h("div", { class: `gb-row gb-row-${who}` }, bubble);
  }

  function render(entry) {
    if (entry.kind === "user") return row("user", h("div", { class: "gb-msg gb-user" }, h("p", { class: "gb-text" }, entry.text)));
    if (entry.kind === "booking") return renderBooking(entry);
    return renderBot(entry);
  }

  function add(entry) {
    entry.id = entry.id || randomHex(6);
    state.history.push(entry);
    save();
    list.append(render(entry));
    scrollToEnd();
  }

  function greet() {
    list.append(
      renderBot({
        id: "welcome",
        text: "您好，我是贵博士，遵义市政务服务智能助手。可以问我办事要带哪些材料、在哪里办、要多少钱，也可以预约办理、查询办件进度。",
        buttons: SUGGESTIONS.map((s) => ({ title: s, payload: s })),
      }),
    );
  }

  // ---- a turn --------------------------------------------------------------------------------
  // Turns go to the gateway one at a time, in order: a quick reply tapped while the previous
  // answer is on its way waits for it instead of being dropped or overtaking it.
  let queue = Promise.resolve();
  let pending = 0;

  function send(text, shown) {
    text = String(text || "").trim();
    if (!text) return;
    if (text.startsWith("/book_appointment")) {
      add({ kind: "user", text: shown || "预约办理" });
      openBooking(serviceOf(text));
      return;
    }
    closeBooking();
    add({ kind: "user", text: shown || text });
    pending += 1;
    setBusy(true);
    queue = queue
      .then(() => turn(text))
      .finally(() => {
        pending -= 1;
        if (!pending) setBusy(false);
      });
  }

  async function turn(text) {
    try {
      const reply = await api("POST", "/api/chat", { sender_id: state.sender, text, channel: "web" }, CHAT_TIMEOUT_MS);
      const messages = (reply && Array.isArray(reply.messages) ? reply.messages : []).filter(
        (m) => m && (m.text || (m.buttons && m.buttons.length) || m.payload),
      );
      if (!messages.length) messages.push({ text: "抱歉，这个问题我暂时答不上来，您可以点“转人工”或拨打 12345。" });
      for (const m of messages) {
        add({
          kind: "bot",
          turn: `t-${Date.now().toString(36)}-${randomHex(4)}`,
          text: m.text || "",
          buttons: m.buttons || [],
          payload: m.payload || null,
          sources: m.sources || [],
        });
      }
      if (messages.some((m) => m.payload && m.payload.type === "handoff")) startInbox();
    } catch (err) {
      add({ kind: "bot", text: err.message || FALLBACK, error: true });
    }
  }

  function serviceOf(payload) {
    const brace = payload.indexOf("{");
    if (brace < 0) return "";
    try {
      const entities = JSON.parse(payload.slice(brace));
      return typeof entities.service === "string" ? entities.service : "";
    } catch {
      return "";
    }
  }

  // ---- booking: a small form that talks to the services API directly -------------------------
  let booking = null;

  function closeBooking() {
    if (booking) {
      booking.remove();
      booking = null;
    }
  }

  function isoDay(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  }

  function field(label, control) {
    return h("label", { class: "gb-field" }, h("span", { class: "gb-label" }, label), control);
  }

  async function openBooking(service) {
    closeBooking();
    const status = h("p", { class: "gb-status", role: "status" }, "正在查询可预约的大厅…");
    const error = h("p", { class: "gb-error", role: "alert" });
    const form = h(
      "form",
      { class: "gb-msg gb-bot gb-booking", "aria-label": `预约办理：${service || "政务服务事项"}`, novalidate: true },
      h("h3", {}, `预约办理${service ? `「${service}」` : ""}`),
      status,
    );
    booking = row("bot", form);
    list.append(booking);
    scrollToEnd();

    let offers;
    try {
      const halls = await api("GET", "/api/services/halls");
      const lists = await Promise.all(
        halls.map((hall) => api("GET", `/api/services/halls/${encodeURIComponent(hall.id)}/services`).catch(() => [])),
      );
      offers = lists.flat().filter((o) => !service || o.service_name === service);
    } catch (err) {
      status.textContent = err.message;
      return;
    }
    if (!offers.length) {
      status.textContent = `暂无可在线预约「${service}」的大厅，请拨打政务服务热线 12345 咨询。`;
      return;
    }

    let chosenSlot = null;
    const hallSelect = h(
      "select",
      { class: "gb-select", name: "hall" },
      offers.map((o, i) =>
        h("option", { value: String(i) }, `${o.hall_name}${offers.some((x) => x.service_name !== o.service_name) ? ` · ${o.service_name}` : ""}`),
      ),
    );
    const today = new Date();
    const daySelect = h(
      "select",
      { class: "gb-select", name: "day" },
      h("option", { value: "" }, "请选择日期"),
      Array.from({ length: BOOKING_DAYS }, (_, i) => {
        const day = new Date(today.getFullYear(), today.getMonth(), today.getDate() + i);
        const label = `${day.getMonth() + 1}月${day.getDate()}日 星期${WEEKDAYS[day.getDay()]}${i === 0 ? "（今天）" : ""}`;
        return h("option", { value: isoDay(day) }, label);
      }),
    );
    const slots = h("div", { class: "gb-slots", role: "group", "aria-label": "可预约时段" });
    const slotHint = h("p", { class: "gb-hint" }, "请先选择日期");
    const name = h("input", { type: "text", name: "name", autocomplete: "name", maxlength: "30", required: true });
    const idNumber = h("input", { type: "text", name: "id_number", maxlength: "18", autocomplete: "off", required: true });
    const phone = h("input", {
      type: "tel",
      name: "phone",
      inputmode: "numeric",
      autocomplete: "tel",
      maxlength: "11",
      required: true,
    });
    const submit = h("button", { type: "submit", class: "gb-primary" }, "确认预约");
    const cancel = h("button", {
      type: "button",
      class: "gb-secondary",
      onclick: () => {
        closeBooking();
        input.focus();
      },
    }, "取消");

    async function loadSlots() {
      chosenSlot = null;
      slots.replaceChildren();
      const offer = offers[Number(hallSelect.value)];
      if (!daySelect.value) {
        slotHint.textContent = "请先选择日期";
        return;
      }
      slotHint.textContent = "正在查询可预约时段…";
      const query = `service_id=${encodeURIComponent(offer.service_id)}&day=${encodeURIComponent(daySelect.value)}`;
      try {
        const found = await api("GET", `/api/services/halls/${encodeURIComponent(offer.hall_id)}/slots?${query}`);
        const free = found.filter((s) => s.remaining > 0);
        slotHint.textContent = free.length ? "请选择时段：" : "这一天已没有可预约的时段，请换一天。";
        append(
          slots,
          found.map((s) => {
            const label = String(s.start).slice(11, 16);
            const full = s.remaining <= 0;
            const button = h(
              "button",
              {
                type: "button",
                class: "gb-slot",
                disabled: full,
                "aria-pressed": "false",
                "aria-label": full ? `${label} 已约满` : `${label}，余${s.remaining}个号`,
              },
              label,
            );
            button.addEventListener("click", () => {
              chosenSlot = s.start;
              slots.querySelectorAll(".gb-slot").forEach((b) => b.setAttribute("aria-pressed", "false"));
              button.setAttribute("aria-pressed", "true");
            });
            return button;
          }),
        );
      } catch (err) {
        slotHint.textContent = err.message;
      }
    }

    hallSelect.addEventListener("change", loadSlots);
    daySelect.addEventListener("change", loadSlots);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      if (!chosenSlot) {
        error.textContent = daySelect.value ? "请选择预约时段。" : "请选择预约日期和时段。";
        return;
      }
      const offer = offers[Number(hallSelect.value)];
      submit.disabled = true;
      try {
        const result = await api("POST", "/api/services/appointments", {
          hall_id: offer.hall_id,
          service_id: offer.service_id,
          start: chosenSlot,
          name: name.value.trim(),
          id_number: idNumber.value.trim(),
          phone: phone.value.trim(),
          sender_id: state.sender,
          channel: "web",
        });
        closeBooking();
        add({ kind: "booking", booking: result });
        input.focus();
      } catch (err) {
        error.textContent = err.message;
        submit.disabled = false;
      }
    });

    status.textContent = "请填写以下信息，预约成功后凭预约码到大厅取号。";
    append(form, [
      field("办理大厅", hallSelect),
      field("预约日期", daySelect),
      slotHint,
      slots,
      field("姓名", name),
      field("身份证号", idNumber),
      field("手机号", phone),
      error,
      h("div", { class: "gb-actions" }, submit, cancel),
    ]);
    scrollToEnd();
    hallSelect.focus();
  }

  // ---- a human agent's replies while a handoff is open: polled from /api/chat/inbox ----------
  const INBOX_POLL_MS = 4000;
  let inboxPolling = false;

  function startInbox() {
    store.set("inboxOpen", true);
    if (!inboxPolling) {
      inboxPolling = true;
      pollInbox();
    }
  }

  async function pollInbox() {
    if (store.get("inboxOpen", false) !== true) {
      inboxPolling = false;
      return;
    }
    const after = Number(store.get("inboxAfter", 0)) || 0;
    try {
      const inbox = await api("GET", `/api/chat/inbox?sender_id=${encodeURIComponent(state.sender)}&after=${after}`);
      for (const m of inbox.messages || []) {
        add({ kind: "bot", text: `人工客服：${m.text}` });
        store.set("inboxAfter", m.id);
      }
      if (!inbox.open) store.set("inboxOpen", false);
    } catch {
      /* offline for a moment: the next poll tries again */
    }
    setTimeout(pollInbox, INBOX_POLL_MS);
  }

  // ---- start ---------------------------------------------------------------------------------
  setElder(state.elder);
  greet();
  for (const entry of state.history) list.append(render(entry));
  document.body.append(host);
  if (state.open) openPanel(false);
  if (store.get("inboxOpen", false) === true) startInbox();
})();
