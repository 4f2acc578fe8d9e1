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
  // The gateway answers longer messages with a request to shorten them (GatewaySettings.max_text_chars,
  // counted in characters after trimming); the widget says so before sending instead.
  const MAX_CHARS = 500;
  const COUNT_FROM = 400;
  const WEEKDAYS = "日一二三四五六";
  const HOTLINE = "12345";
  const FALLBACK = `网络异常，请稍后再试；急事请拨打政务服务热线 ${HOTLINE}。`;
  const SUGGESTIONS = ["高龄补贴要带哪些材料", "新农合今年交好多钱", "查办件进度", "啥子叫容缺受理"];
  const LEAVE_AGENT = "结束人工"; // channels/turns.py LEAVE_AGENT_WORDS
  const AGENT_PREFIX = "人工客服：";

  // ---- storage ------------------------------------------------------------------------------
  // The conversation survives page reloads (localStorage). A half-filled booking form holds an
  // ID number, so it lives only as long as the tab (sessionStorage).
  function storage(area) {
    return {
      get(name, fallback) {
        try {
          const raw = area().getItem(KEY + name);
          return raw === null ? fallback : JSON.parse(raw);
        } catch {
          return fallback;
        }
      },
      set(name, value) {
        try {
          area().setItem(KEY + name, JSON.stringify(value));
        } catch {
          /* private mode or quota: the widget still works, it just forgets on reload */
        }
      },
      remove(name) {
        try {
          area().removeItem(KEY + name);
        } catch {
          /* as above */
        }
      },
    };
  }
  const store = storage(() => localStorage);
  const tab = storage(() => sessionStorage);

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

  // A toggle says its state once: aria-pressed, with a name that never changes.
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
  });
  // The booking form sits below the log, outside it: a screen reader should not read a whole
  // form out as if it were a message, and new messages must not push it away.
  const dock = h("div", { class: "gb-dock" });
  const scroller = h("div", { class: "gb-scroll", role: "region", "aria-label": "对话内容", tabindex: "0" }, list, dock);
  const typing = h(
    "div",
    { class: "gb-typing", role: "status", hidden: true },
    h("span", { class: "gb-dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")),
    h("span", { class: "gb-sr" }, "贵博士正在输入…"),
  );

  const queueText = h("div", { class: "gb-queue-text", role: "status" });
  const stopButton = h(
    "button",
    {
      type: "button",
      class: "gb-secondary gb-stop",
      onclick: () => send(LEAVE_AGENT).then(pollInbox),
    },
    "结束等待",
  );
  const queue = h("div", { class: "gb-queue", hidden: true }, queueText, stopButton);

  const counter = h("span", { id: "gb-count", class: "gb-counter", hidden: true });
  const limitWarning = h("p", { id: "gb-limit", class: "gb-limit", role: "alert" });
  const input = h("textarea", {
    class: "gb-input",
    rows: "1",
    "aria-label": "输入您想咨询的问题",
    "aria-describedby": "gb-count gb-limit",
    placeholder: "请输入您想咨询的问题",
    autocomplete: "off",
    enterkeyhint: "send",
  });
  const sendButton = h("button", { type: "submit", class: "gb-send" }, "发送");
  const composer = h(
    "form",
    {
      class: "gb-composer",
      onsubmit: (event) => {
        event.preventDefault();
        const text = input.value;
        if (!text.trim()) return;
        if (tooLong()) {
          warnTooLong(true);
          input.focus();
          return;
        }
        input.value = "";
        updateCount();
        send(text);
      },
    },
    h("div", { class: "gb-compose-row" }, input, sendButton),
    h("div", { class: "gb-compose-notes" }, limitWarning, counter),
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
    scroller,
    typing,
    queue,
    composer,
    h("p", { class: "gb-footnote" }, "智能助手的回答仅供参考（示例数据），以贵州政务服务网公布为准。"),
  );

  const shell = h("div", { class: "gb" }, launcher, panel);
  root.append(shell);

  // On a phone the panel covers the page: then it is modal, and Tab stays inside it.
  const fullScreen = window.matchMedia("(max-width: 600px)");
  function syncModal() {
    panel.setAttribute("aria-modal", String(fullScreen.matches));
  }
  fullScreen.addEventListener("change", syncModal);

  function focusables() {
    return [...panel.querySelectorAll("button, input, select, textarea, a[href], [tabindex='0']")].filter(
      (el) => !el.disabled && el.getClientRects().length > 0,
    );
  }

  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      if (booking && booking.dismissQuestion()) return;
      closePanel();
    } else if (event.key === "Tab" && fullScreen.matches) {
      const all = focusables();
      if (!all.length) return;
      const first = all[0];
      const last = all[all.length - 1];
      if (event.shiftKey && root.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && root.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  });

  function openPanel(focus) {
    panel.hidden = false;
    shell.classList.add("gb-is-open");
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    store.set("open", true);
    syncModal();
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
    autosize();
  }

  function setBusy(busy) {
    state.busy = busy;
    typing.hidden = !busy;
    list.setAttribute("aria-busy", String(busy));
  }

  function scrollToEnd() {
    requestAnimationFrame(() => {
      scroller.scrollTop = scroller.scrollHeight;
    });
  }

  // A new answer is read from its start: scroll it to the top of the view (or as far as the
  // end allows), not to its last line.
  function reveal(el) {
    requestAnimationFrame(() => {
      const top = el.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
      scroller.scrollTop = Math.min(Math.max(0, top - 8), scroller.scrollHeight - scroller.clientHeight);
    });
  }

  // ---- the composer: Enter sends, Shift+Enter starts a new line, nothing is cut --------------
  function charCount() {
    return Array.from(input.value.trim()).length;
  }

  function tooLong() {
    return charCount() > MAX_CHARS;
  }

  function warnTooLong(again) {
    const message = `超过${MAX_CHARS}字，请删减或分几次发送（内容没有被删掉）。`;
    if (again) limitWarning.textContent = "";
    // After clearing, set it on the next frame so a screen reader announces it again.
    requestAnimationFrame(() => {
      limitWarning.textContent = tooLong() ? message : "";
    });
  }

  function autosize() {
    input.style.height = "auto";
    const borders = input.offsetHeight - input.clientHeight;
    input.style.height = `${input.scrollHeight + borders}px`;
  }

  function updateCount() {
    const count = charCount();
    counter.hidden = count < COUNT_FROM;
    counter.textContent = `${count}/${MAX_CHARS}字`;
    const over = count > MAX_CHARS;
    counter.classList.toggle("gb-over", over);
    input.setAttribute("aria-invalid", String(over));
    if (over !== Boolean(limitWarning.textContent)) warnTooLong(false);
    autosize();
  }

  input.addEventListener("input", updateCount);
  input.addEventListener("keydown", (event) => {
    // isComposing: Enter that confirms a pinyin candidate is not a send.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  // ---- rendering ----------------------------------------------------------------------------
  const rows = new Map(); // entry id → its row, to update a booking card in place

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

  // A life event cites every step's guide: the first source shows, the rest fold away on a phone.
  function sourcesBlock(sources) {
    const [first, ...rest] = sources;
    const more = rest.length > 1
      ? h("details", { class: "gb-more-sources" }, h("summary", {}, `另有 ${rest.length} 份办事指南来源`), rest.map(sourceLine))
      : rest.map(sourceLine);
    return h("div", { class: "gb-sources" }, sourceLine(first), more);
  }

  // 预审: what the resident ticked goes to the dialogue as their own words, led by the card's
  // guide or 一件事 (「新生儿出生一件事」我有：…，还缺什么？), so the pre-check is of that card's
  // list whatever the conversation has moved on to.
  function precheckBlock(entry, subject, tickedNames) {
    const hintId = `gb-pc-${entry.id}`;
    const button = h(
      "button",
      {
        type: "button",
        class: "gb-precheck-ask",
        "aria-describedby": hintId,
        onclick: () => {
          const names = tickedNames();
          if (names.length) send(`「${subject}」我有：${names.join("、")}，还缺什么？`);
        },
      },
      "看看还缺什么",
    );
    const sync = () => {
      button.disabled = tickedNames().length === 0;
    };
    sync();
    const el = h(
      "div",
      { class: "gb-precheck" },
      button,
      h("span", { id: hintId, class: "gb-hint" }, "勾选已有的材料，帮您预审还缺什么"),
    );
    return { el, sync };
  }

  function materialChecklist(card, entry) {
    entry.checked = Array.isArray(entry.checked) ? entry.checked : [];
    const total = card.materials.length;
    const progress = h("p", { class: "gb-progress", "aria-live": "polite" });
    const precheck = precheckBlock(entry, String(card.service), () =>
      entry.checked.map((i) => card.materials[i] && card.materials[i].name).filter((n) => typeof n === "string" && n),
    );
    const updateProgress = () => {
      progress.textContent = `已备齐 ${entry.checked.length}/${total} 项`;
      precheck.sync();
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
      precheck.el,
    );
  }

  // ---- 一件事: the steps of a life event as a timeline, and one merged checklist --------------
  const STEP_BUTTON = /^第(\d+)步\s/;
  // Sections whose text says more than the card (what each step costs): their text stays.
  const BUNDLE_TEXT_SECTIONS = new Set(["fees", "benefits"]);

  function stepOfButton(button) {
    const found = button && typeof button.title === "string" ? STEP_BUTTON.exec(button.title) : null;
    return found ? Number(found[1]) : null;
  }

  function isBundleCard(payload) {
    return Boolean(payload && payload.type === "bundle_card" && Array.isArray(payload.steps) && payload.steps.length);
  }

  function numbers(list) {
    return (Array.isArray(list) ? list : []).filter(Number.isInteger);
  }

  function bundleStep(step, button) {
    const parallel = numbers(step.parallel_with);
    const after = numbers(step.after);
    const order = [
      after.length ? `第${after.join("、")}步办完后办` : null,
      parallel.length ? `可与第${parallel.join("、")}步同时办` : null,
    ].filter(Boolean);
    const ask = () => {
      if (button) send(button.payload, button.title);
      else send(`第${step.number}步怎么办`);
    };
    return h(
      "li",
      { class: step.critical ? "gb-step gb-step-critical" : "gb-step" },
      h(
        "button",
        { type: "button", class: "gb-step-ask", onclick: ask },
        h("span", { class: "gb-step-num", "aria-hidden": "true" }, String(step.number)),
        h(
          "span",
          { class: "gb-step-body" },
          h(
            "span",
            { class: "gb-step-title" },
            h("span", { class: "gb-sr" }, `第${step.number}步：`),
            String(step.title || step.service || ""),
          ),
          step.where ? h("span", { class: "gb-step-where" }, String(step.where)) : null,
          h(
            "span",
            { class: "gb-marks" },
            h("span", { class: "gb-mark gb-days" }, Number(step.days) > 0 ? `${step.days}个工作日` : "即办"),
            step.fully_online ? h("span", { class: "gb-mark gb-online", title: "可全程网上办理" }, "网办") : null,
            step.critical ? h("span", { class: "gb-mark gb-critical", title: "这一步的时间计入总时长" }, "关键步骤") : null,
          ),
          step.when ? h("span", { class: "gb-step-note" }, `按需：${step.when}`) : null,
          order.length ? h("span", { class: "gb-step-note" }, order.join("；")) : null,
        ),
        h("span", { class: "gb-step-go", "aria-hidden": "true" }, "›"),
      ),
    );
  }

  function bundleSummary(card, steps) {
    const online = steps.filter((s) => s.fully_online).length;
    const days = Number(card.total_days) > 0 ? `承诺时限合计约${card.total_days}个工作日（同时办的已并算）` : "都能当场办结";
    const visits = Number(card.hall_visits) > 0 ? `最多跑${card.hall_visits}次大厅` : "不用跑大厅";
    return `共${steps.length}步，${days}，${visits}${online ? `，${online}步可全程网办` : ""}。`;
  }

  // Lines the resident brings are ticked as they are found; lines an earlier step issues or the
  // hall fetches itself are listed so nobody hunts for them, without a box.
  function bundleMaterial(m, index, shown, entry, onTick) {
    const bring = m.to_bring !== false;
    const issued = !bring && Number.isInteger(m.obtained_from);
    // What a step issues reads 第2步办出 · 第3、4步用, not as used by the step that issues it.
    const steps = numbers(m.steps).filter((n) => !issued || n !== m.obtained_from);
    const marks = [
      m.form ? h("span", { class: "gb-mark gb-form" }, m.form) : null,
      m.copies ? h("span", { class: "gb-mark" }, `${m.copies}份`) : null,
      issued ? h("span", { class: "gb-mark gb-issued" }, `第${m.obtained_from}步办出`) : null,
      steps.length ? h("span", { class: "gb-mark" }, `第${steps.join("、")}步用`) : null,
      issued
        ? null
        : !bring && m.e_license
          ? h("span", { class: "gb-mark gb-elicense", title: "窗口调取电子证照，不用带实体证件" }, "电子证照，免带")
          : null,
      m.deferrable ? h("span", { class: "gb-mark gb-defer", title: "可容缺受理，办结前补交" }, "可容缺") : null,
      m.required === false
        ? h("span", { class: "gb-mark gb-optional" }, m.condition ? `按情况：${m.condition}` : "按情况")
        : null,
    ];
    const label = [
      h("span", { class: "gb-num" }, `${shown}.`),
      " ",
      h("span", { class: "gb-mname" }, m.name),
      h("span", { class: "gb-marks" }, marks),
    ];
    if (!bring) {
      return h(
        "li",
        { class: "gb-material gb-not-brought" },
        h("span", { class: "gb-nobox", "aria-hidden": "true" }, "—"),
        h("span", {}, label),
      );
    }
    const id = `gb-b-${entry.id}-${index}`;
    const done = entry.checked.includes(index);
    const item = h(
      "li",
      { class: done ? "gb-material gb-done" : "gb-material" },
      h("input", {
        type: "checkbox",
        id,
        checked: done,
        onchange: (event) => {
          item.classList.toggle("gb-done", event.target.checked);
          onTick(index, event.target.checked);
        },
      }),
      h("label", { for: id }, label),
    );
    return item;
  }

  function bundleCard(card, entry) {
    const name = String(card.name || "一件事");
    const steps = card.steps.filter((s) => s && Number.isInteger(s.number));
    const byStep = new Map();
    for (const b of Array.isArray(entry.buttons) ? entry.buttons : []) {
      const n = stepOfButton(b);
      if (n !== null && typeof b.payload === "string" && !byStep.has(n)) byStep.set(n, b);
    }
    // Indexes into card.materials, so saved ticks stay on their line; required lines first.
    const rank = (m) => (m.required === false ? 2 : 0) + (m.to_bring === false ? 1 : 0);
    const order = (Array.isArray(card.materials) ? card.materials : [])
      .map((m, i) => [m, i])
      .filter(([m]) => m && typeof m.name === "string" && m.name)
      .sort(([a, i], [b, j]) => rank(a) - rank(b) || i - j);
    const tickable = new Set(order.filter(([m]) => m.to_bring !== false).map(([, i]) => i));
    entry.checked = (Array.isArray(entry.checked) ? entry.checked : []).filter((i) => tickable.has(i));

    const progress = h("p", { class: "gb-progress", "aria-live": "polite" });
    const precheck = precheckBlock(entry, name, () =>
      order.filter(([, i]) => entry.checked.includes(i)).map(([m]) => m.name),
    );
    // Counted like the text's 必备材料N项: required lines the resident must bring themselves.
    const needed = new Set(order.filter(([m]) => m.required !== false && m.to_bring !== false).map(([, i]) => i));
    const update = () => {
      const ready = entry.checked.filter((i) => needed.has(i)).length;
      progress.textContent = `必备材料已备齐 ${ready}/${needed.size} 项`;
      precheck.sync();
    };
    const onTick = (index, on) => {
      const set = new Set(entry.checked);
      if (on) set.add(index);
      else set.delete(index);
      entry.checked = [...set].sort((a, b) => a - b);
      update();
      save();
    };
    const items = order.map(([m, i], n) => bundleMaterial(m, i, n + 1, entry, onTick));
    update();
    // Lines only some families need fold away, as the text's 另有N项按情况提供 does; open when
    // one of them is ticked.
    const main = items.filter((_, n) => order[n][0].required !== false);
    const more = items.filter((_, n) => order[n][0].required === false);
    const checklist = h(
      "ol",
      { class: "gb-checklist", "aria-label": `「${name}」合并材料清单，备齐一项勾选一项` },
      main,
    );
    const folded = more.length
      ? h(
          "details",
          { class: "gb-more", open: more.some((_, n) => entry.checked.includes(order[main.length + n][1])) },
          h("summary", {}, `另有${more.length}项按情况提供`),
          h("ol", { class: "gb-checklist", start: String(main.length + 1), "aria-label": "按情况提供的材料" }, more),
        )
      : null;

    const notes = (Array.isArray(card.notes) ? card.notes : []).filter((n) => typeof n === "string" && n);
    return h(
      "div",
      { class: "gb-card gb-bundle" },
      h("h3", { class: "gb-bundle-name" }, `「${name}」一次办`),
      card.lead ? h("p", { class: "gb-text gb-lead" }, String(card.lead)) : null,
      h("h4", { class: "gb-subhead" }, "办理步骤（点一步看怎么办）"),
      h(
        "ol",
        { class: "gb-timeline", "aria-label": `「${name}」办理步骤，按顺序` },
        steps.map((s) => bundleStep(s, byStep.get(s.number))),
      ),
      h("p", { class: "gb-summary" }, bundleSummary(card, steps)),
      items.length ? h("h4", { class: "gb-subhead" }, "材料清单（同一份材料只准备一次）") : null,
      items.length ? [checklist, folded] : null,
      items.length ? progress : null,
      items.length ? precheck.el : null,
      notes.length ? h("ul", { class: "gb-notes", "aria-label": "办理提示" }, notes.map((n) => h("li", {}, n))) : null,
    );
  }

  // 预审 replies: the verdict as a badge above the reply's own text.
  const VERDICTS = {
    可以去办: "gb-verdict-go",
    带齐后再去: "gb-verdict-gather",
    "可以先去办（容缺受理）": "gb-verdict-deferred",
  };

  function verdictBadge(payload) {
    const verdict = payload && payload.type === "precheck" ? payload.verdict : null;
    if (typeof verdict !== "string" || !Object.hasOwn(VERDICTS, verdict)) return null;
    return h(
      "p",
      { class: `gb-verdict ${VERDICTS[verdict]}` },
      h("span", { class: "gb-verdict-label" }, "材料预审"),
      verdict,
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

  // ---- a booking's code: copy it, cancel or move the booking through the dialogue ------------
  const CODE = /^[A-Z0-9]{4,16}$/;

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Plain-http pages have no clipboard API; a selected text node still copies.
      const scratch = h("textarea", { class: "gb-sr", readonly: true, "aria-hidden": "true" }, text);
      shell.append(scratch);
      scratch.select();
      let done = false;
      try {
        done = document.execCommand("copy");
      } catch {
        done = false;
      }
      scratch.remove();
      return done;
    }
  }

  function copyButton(code) {
    const said = h("span", { class: "gb-copied", role: "status" });
    const button = h(
      "button",
      {
        type: "button",
        class: "gb-secondary gb-copy",
        "aria-label": `复制预约码 ${code}`,
        onclick: async () => {
          said.textContent = (await copyText(code)) ? "已复制" : `复制失败，请手动记下：${code}`;
        },
      },
      "复制",
    );
    return [button, said];
  }

  // 取消预约 and 改约 go to the dialogue, which asks for the phone number the booking was made
  // with and confirms; the bot's reply carries the booking (type "booking") and updates this card.
  function changeButtons(code) {
    return h(
      "div",
      { class: "gb-actions gb-change", role: "group", "aria-label": `预约码 ${code} 的操作` },
      h(
        "button",
        {
          type: "button",
          class: "gb-secondary gb-cancel-booking",
          onclick: () => {
            send(`/cancel_appointment${JSON.stringify({ booking_code: code })}`, `取消预约（预约码 ${code}）`);
            input.focus();
          },
        },
        "取消预约",
      ),
      h(
        "button",
        {
          type: "button",
          class: "gb-secondary gb-move-booking",
          onclick: () => {
            send(
              `/cancel_appointment${JSON.stringify({ booking_code: code, appointment_task: "reschedule" })}`,
              `改约（预约码 ${code}）`,
            );
            input.focus();
          },
        },
        "改约",
      ),
    );
  }

  function renderBooking(entry) {
    const b = entry.booking || {};
    const code = String(b.code || "");
    const cancelled = entry.status === "cancelled";
    const start = String(b.start || "");
    const end = String(b.end || "");
    const ics = safeUrl(`/api/services/appointments/${encodeURIComponent(code)}/calendar.ics`);
    const headline = cancelled
      ? "此预约已取消，预约码已失效。需要时可以重新预约。"
      : entry.moved
        ? "已改期！请凭预约码按新的时间到大厅取号办理。"
        : "预约成功！请凭预约码按时到大厅取号办理。";
    return h(
      "div",
      { class: cancelled ? "gb-msg gb-bot gb-confirmation gb-cancelled" : "gb-msg gb-bot gb-confirmation" },
      cancelled ? h("p", { class: "gb-badge" }, "已取消") : null,
      h("p", { class: "gb-text gb-headline" }, headline),
      h(
        "div",
        { class: "gb-code" },
        h("span", {}, "预约码：", h(cancelled ? "s" : "strong", {}, code)),
        !cancelled && CODE.test(code) ? copyButton(code) : null,
      ),
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
      !cancelled && ics
        ? h("a", { class: "gb-ics", href: ics, download: `appointment-${code}.ics` }, "添加到日历（.ics 文件）")
        : null,
      !cancelled && CODE.test(code) ? changeButtons(code) : null,
    );
  }

  // The dialogue's own booking receipts (typed bookings) get the same buttons under their text.
  function bookingPayloadActions(entry, payload) {
    const code = String(payload.code || "");
    if (!CODE.test(code)) return null;
    if (entry.status === "cancelled") return h("p", { class: "gb-badge" }, `预约 ${code} 已取消`);
    if (payload.status !== "booked") return null;
    return [h("div", { class: "gb-code" }, h("span", {}, "预约码：", h("strong", {}, code)), copyButton(code)), changeButtons(code)];
  }

  function isAgent(entry) {
    return entry.kind === "agent" || (entry.kind === "bot" && String(entry.text || "").startsWith(AGENT_PREFIX));
  }

  function renderBot(entry) {
    const payload = entry.payload && typeof entry.payload === "object" ? entry.payload : null;
    const card = payload && payload.type === "guide_card" ? payload : null;
    const sources = Array.isArray(entry.sources) ? entry.sources.filter((s) => s && s.title) : [];
    // The text carries its own citation for text-only channels; here the source line shows it.
    let lines = String(entry.text || "").split("\n");
    if (sources.length) lines = lines.filter((line) => !line.startsWith("来源："));

    const bundle = isBundleCard(payload) ? payload : null;
    let buttons = entry.buttons;

    const bubble = h("div", { class: entry.error ? "gb-msg gb-bot gb-failed" : "gb-msg gb-bot" });
    if (bundle) {
      // The card shows what the text says; each step in the timeline is its own 第N步 button.
      bubble.classList.add("gb-wide");
      if (BUNDLE_TEXT_SECTIONS.has(bundle.section)) append(bubble, [textBlock(lines.join("\n"))]);
      append(bubble, [bundleCard(bundle, entry)]);
      buttons = (Array.isArray(buttons) ? buttons : []).filter((b) => stepOfButton(b) === null);
    } else if (card && Array.isArray(card.materials) && card.materials.length) {
      const numbered = /^\d+\.\s/;
      const first = lines.findIndex((l) => numbered.test(l));
      const last = lines.length - 1 - [...lines].reverse().findIndex((l) => numbered.test(l));
      const before = first < 0 ? lines : lines.slice(0, first);
      const after = first < 0 ? [] : lines.slice(last + 1);
      append(bubble, [textBlock(before.join("\n")), materialChecklist(card, entry), textBlock(after.join("\n"))]);
    } else {
      append(bubble, [verdictBadge(payload), textBlock(lines.join("\n"))]);
    }
    if (payload && payload.type === "handoff" && payload.ticket) {
      append(bubble, [h("p", { class: "gb-ticket" }, `工单号：${payload.ticket}`)]);
    }
    if (payload && payload.type === "booking") append(bubble, [bookingPayloadActions(entry, payload)]);
    if (sources.length) append(bubble, [sourcesBlock(sources)]);
    append(bubble, [quickReplies(buttons)]);
    if (card && entry.turn) append(bubble, [ratingBlock(entry, card)]);
    return bubble;
  }

  function renderAgent(entry) {
    const text = String(entry.text || "");
    const body = text.startsWith(AGENT_PREFIX) ? text.slice(AGENT_PREFIX.length) : text;
    return h(
      "div",
      { class: "gb-msg gb-bot gb-agent" },
      h("p", { class: "gb-text" }, h("strong", { class: "gb-speaker" }, AGENT_PREFIX), body),
    );
  }

  // Every message says who spoke, for those who cannot see which side a bubble is on.
  function row(who, bubble) {
    if (who !== "agent") bubble.prepend(h("span", { class: "gb-sr" }, who === "user" ? "我说：" : "贵博士说："));
    return h("div", { class: `gb-row gb-row-${who === "user" ? "user" : "bot"}` }, bubble);
  }

  function render(entry) {
    let el;
    if (entry.kind === "user") el = row("user", h("div", { class: "gb-msg gb-user" }, h("p", { class: "gb-text" }, entry.text)));
    else if (entry.kind === "booking") el = row("bot", renderBooking(entry));
    else if (isAgent(entry)) el = row("agent", renderAgent(entry));
    else el = row("bot", renderBot(entry));
    if (entry.id) rows.set(entry.id, el);
    return el;
  }

  function add(entry) {
    entry.id = entry.id || randomHex(6);
    state.history.push(entry);
    save();
    const el = render(entry);
    list.append(el);
    return el;
  }

  function rerender(entry) {
    const old = rows.get(entry.id);
    if (!old) return;
    const hadFocus = old.contains(root.activeElement);
    const fresh = render(entry);
    old.replaceWith(fresh);
    if (hadFocus) input.focus();
  }

  // A booking the dialogue cancelled or moved: every card with its code says so.
  function updateBookings(payload) {
    const code = String(payload.code || "");
    if (!CODE.test(code)) return;
    for (const entry of state.history) {
      const same =
        (entry.kind === "booking" && entry.booking && entry.booking.code === code) ||
        (entry.kind === "bot" && entry.payload && entry.payload.type === "booking" && entry.payload.code === code && entry.payload.status === "booked");
      if (!same || entry.status === "cancelled") continue;
      if (payload.status === "cancelled") {
        entry.status = "cancelled";
      } else if (entry.kind === "booking" && payload.status === "booked" && payload.start && payload.start !== entry.booking.start) {
        entry.booking = { ...entry.booking, start: payload.start, end: payload.end || entry.booking.end };
        entry.moved = true;
      } else {
        continue;
      }
      rerender(entry);
    }
    save();
  }

  function welcomeRow(questions) {
    const bubble = renderBot({
      id: "welcome",
      text: "您好，我是贵博士，遵义市政务服务智能助手。可以问我办事要带哪些材料、在哪里办、要多少钱，也可以预约办理、查询办件进度。\n猜你想问：",
      buttons: questions.map((s) => ({ title: s, payload: s })),
    });
    const group = bubble.querySelector(".gb-replies");
    if (group) group.setAttribute("aria-label", "猜你想问");
    return row("bot", bubble);
  }

  // 猜你想问: the most-asked questions right now (GET /api/suggestions); the built-in ones until
  // they arrive, and when the gateway cannot be reached.
  function greet() {
    let shown = welcomeRow(SUGGESTIONS);
    list.append(shown);
    api("GET", "/api/suggestions")
      .then((reply) => {
        const questions = (reply && Array.isArray(reply.questions) ? reply.questions : []).filter(
          (q) => typeof q === "string" && q.trim(),
        );
        if (!questions.length || shown.contains(root.activeElement)) return;
        const fresh = welcomeRow(questions);
        shown.replaceWith(fresh);
        shown = fresh;
      })
      .catch(() => {});
  }

  // ---- a turn --------------------------------------------------------------------------------
  // Turns go to the gateway one at a time, in order: a quick reply tapped while the previous
  // answer is on its way waits for it instead of being dropped or overtaking it.
  let queueOfTurns = Promise.resolve();
  let pending = 0;

  function send(text, shown) {
    text = String(text || "").trim();
    if (!text) return Promise.resolve();
    if (text.startsWith("/book_appointment")) {
      startBooking(serviceOf(text), shown || "预约办理");
      return Promise.resolve();
    }
    const said = add({ kind: "user", text: shown || text });
    // With the booking form open below the log, the end of the view is the form's end.
    if (booking) reveal(said);
    else scrollToEnd();
    pending += 1;
    setBusy(true);
    queueOfTurns = queueOfTurns
      .then(() => turn(text))
      .finally(() => {
        pending -= 1;
        if (!pending) setBusy(false);
      });
    return queueOfTurns;
  }

  async function turn(text) {
    let first = null;
    try {
      const reply = await api("POST", "/api/chat", { sender_id: state.sender, text, channel: "web" }, CHAT_TIMEOUT_MS);
      const messages = (reply && Array.isArray(reply.messages) ? reply.messages : []).filter(
        (m) => m && (m.text || (m.buttons && m.buttons.length) || m.payload),
      );
      if (!messages.length) messages.push({ text: `抱歉，这个问题我暂时答不上来，您可以点“转人工”或拨打 ${HOTLINE}。` });
      // The server's turn id: a rating refers to it, so the workbench joins it to the question.
      const turnId = reply && typeof reply.turn_id === "string" && reply.turn_id ? reply.turn_id : null;
      for (const m of messages) {
        const payload = m.payload && typeof m.payload === "object" ? m.payload : null;
        if (payload && payload.type === "booking") updateBookings(payload);
        const el = add({
          kind: "bot",
          turn: turnId,
          text: m.text || "",
          buttons: m.buttons || [],
          payload,
          sources: m.sources || [],
        });
        first = first || el;
      }
      const handoff = messages.find((m) => m.payload && m.payload.type === "handoff");
      if (handoff) {
        const p = handoff.payload;
        startInbox({ open: true, ticket: p.ticket || null, status: p.state || "waiting", position: p.position, open_now: p.open_now });
      }
    } catch (err) {
      first = add({ kind: "bot", text: err.message || FALLBACK, error: true });
    }
    if (first) reveal(first);
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
  // It stays open while the resident asks something else, and comes back after a reload;
  // what they typed is only thrown away when they say so.
  let booking = null;

  function startBooking(service, shown) {
    if (booking && booking.service === service) {
      booking.show();
      return;
    }
    const begin = () => {
      add({ kind: "user", text: shown });
      openBooking(service, null, true);
    };
    if (booking && booking.filled()) {
      booking.ask(`要改为预约「${service || "其他事项"}」吗？这张表里已填写的信息会被清除。`, "改为预约这一项", begin);
      return;
    }
    begin();
  }

  function closeBooking() {
    if (booking) {
      booking.el.remove();
      booking = null;
    }
    tab.remove("booking");
  }

  function isoDay(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  }

  function field(label, control) {
    return h("label", { class: "gb-field" }, h("span", { class: "gb-label" }, label), control);
  }

  async function openBooking(service, draft, focus) {
    if (booking) {
      booking.el.remove();
      booking = null;
    }
    const status = h("p", { class: "gb-status", role: "status" }, "正在查询可预约的大厅…");
    const error = h("p", { class: "gb-error", role: "alert" });
    const question = h("div", { class: "gb-confirm" });
    question.hidden = true;
    const form = h(
      "form",
      { class: "gb-msg gb-bot gb-booking", "aria-label": `预约办理：${service || "政务服务事项"}`, novalidate: true },
      h("h3", {}, `预约办理${service ? `「${service}」` : ""}`),
      status,
    );
    const el = h("div", { class: "gb-row gb-row-bot" }, form);
    dock.append(el);

    let offers = [];
    let chosenSlot = draft && typeof draft.slot === "string" ? draft.slot : null;
    const controls = {};
    const saved = () => ({
      service,
      hall_id: offers.length ? offers[Number(controls.hall.value)].hall_id : draft && draft.hall_id,
      service_id: offers.length ? offers[Number(controls.hall.value)].service_id : draft && draft.service_id,
      day: controls.day ? controls.day.value : draft && draft.day,
      slot: chosenSlot,
      name: controls.name ? controls.name.value : draft && draft.name,
      id_number: controls.idNumber ? controls.idNumber.value : draft && draft.id_number,
      phone: controls.phone ? controls.phone.value : draft && draft.phone,
    });
    const remember = () => tab.set("booking", saved());

    const current = {
      el,
      service,
      filled() {
        const s = saved();
        return Boolean(s.slot || (s.name || "").trim() || (s.id_number || "").trim() || (s.phone || "").trim());
      },
      show() {
        reveal(el);
        (controls.hall || form).focus();
      },
      // Asks before throwing typed data away; "继续填写" (and Escape) keep it.
      ask(message, confirmLabel, onConfirm) {
        const keep = h(
          "button",
          { type: "button", class: "gb-secondary", onclick: () => this.dismissQuestion(true) },
          "继续填写",
        );
        const drop = h(
          "button",
          {
            type: "button",
            class: "gb-primary gb-danger",
            onclick: () => {
              question.hidden = true;
              onConfirm();
            },
          },
          confirmLabel,
        );
        question.replaceChildren(h("p", { class: "gb-confirm-text", role: "alert" }, message), h("div", { class: "gb-actions" }, drop, keep));
        question.hidden = false;
        reveal(question);
        keep.focus();
      },
      dismissQuestion(focusForm) {
        if (question.hidden) return false;
        question.hidden = true;
        question.replaceChildren();
        if (focusForm !== false) (controls.hall || form).focus();
        return true;
      },
    };
    booking = current;
    remember();
    if (focus) reveal(el);

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
    if (booking !== current) return;
    if (!offers.length) {
      status.textContent = `暂无可在线预约「${service}」的大厅，请拨打政务服务热线 ${HOTLINE} 咨询。`;
      return;
    }

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
    Object.assign(controls, { hall: hallSelect, day: daySelect, name, idNumber, phone });
    const submit = h("button", { type: "submit", class: "gb-primary" }, "确认预约");
    const cancel = h(
      "button",
      {
        type: "button",
        class: "gb-secondary",
        onclick: () => {
          const stop = () => {
            closeBooking();
            input.focus();
          };
          if (current.filled()) current.ask("放弃这次预约吗？已填写的信息会被清除。", "放弃预约", stop);
          else stop();
        },
      },
      "取消",
    );

    if (draft) {
      const index = offers.findIndex((o) => o.hall_id === draft.hall_id && o.service_id === draft.service_id);
      hallSelect.value = String(Math.max(0, index));
      if (typeof draft.day === "string" && [...daySelect.options].some((o) => o.value === draft.day)) daySelect.value = draft.day;
      name.value = typeof draft.name === "string" ? draft.name : "";
      idNumber.value = typeof draft.id_number === "string" ? draft.id_number : "";
      phone.value = typeof draft.phone === "string" ? draft.phone : "";
    }

    let slotQuery = 0;
    async function loadSlots(wanted) {
      const asked = ++slotQuery;
      chosenSlot = null;
      remember();
      slots.replaceChildren();
      const offer = offers[Number(hallSelect.value)];
      if (!daySelect.value) {
        slotHint.textContent = "请先选择日期";
        return;
      }
      slotHint.textContent = "正在查询可预约时段…";
      const query = `service_id=${encodeURIComponent(offer.service_id)}&day=${encodeURIComponent(daySelect.value)}`;
      let found;
      try {
        found = await api("GET", `/api/services/halls/${encodeURIComponent(offer.hall_id)}/slots?${query}`);
      } catch (err) {
        if (asked === slotQuery) slotHint.textContent = err.message;
        return;
      }
      if (asked !== slotQuery) return;
      const free = found.filter((s) => s.remaining > 0);
      slotHint.textContent = free.length ? "请选择时段：" : "这一天已没有可预约的时段，请换一天。";
      const buttons = found.map((s) => {
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
          remember();
        });
        if (wanted && s.start === wanted && !full) {
          chosenSlot = s.start;
          button.setAttribute("aria-pressed", "true");
        }
        return button;
      });
      append(slots, buttons);
      if (wanted && !chosenSlot) slotHint.textContent = "您之前选的时段已约满，请重新选择：";
      remember();
    }

    hallSelect.addEventListener("change", () => loadSlots(null));
    daySelect.addEventListener("change", () => loadSlots(null));
    for (const control of [name, idNumber, phone]) control.addEventListener("input", remember);
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
        reveal(add({ kind: "booking", booking: result, status: result.status }));
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
      question,
    ]);
    if (daySelect.value) await loadSlots(chosenSlot);
    if (booking !== current) return;
    if (focus) {
      reveal(el);
      hallSelect.focus();
    }
  }

  // ---- a person instead of the assistant: the queue, and the agent's replies ------------------
  // Polled from /api/chat/inbox while a handoff is open. position, hours and open_now may be
  // missing from older gateways: then they are not shown.
  const INBOX_POLL_MS = 4000;
  let inboxTimer = null;
  let inboxBusy = false;

  function showQueue(view) {
    if (!view || view.open !== true) {
      queue.hidden = true;
      queueText.textContent = "";
      return;
    }
    const claimed = view.status === "claimed";
    const ticket = typeof view.ticket === "string" && view.ticket ? `（工单号 ${view.ticket}）` : "";
    const lines = [];
    if (claimed) {
      lines.push(`人工客服已接入${ticket}，请直接输入您想说的话`);
    } else {
      // While waiting: the place in the queue, and when someone can be expected.
      const place = Number.isInteger(view.position) && view.position > 0 ? `，您排在第 ${view.position} 位` : "";
      lines.push(`排队中${place}${ticket}`);
      if (typeof view.hours === "string" && view.hours.trim()) lines.push(`人工服务时间：${view.hours.trim()}`);
      if (view.open_now === false) lines.push(`现在不在服务时间，上班后按顺序回复；急事请拨 ${HOTLINE}`);
    }
    const text = lines.join("\n");
    if (queueText.textContent !== text) queueText.textContent = text;
    queue.classList.toggle("gb-claimed", claimed);
    stopButton.textContent = claimed ? "结束人工" : "结束等待";
    queue.hidden = false;
  }

  function startInbox(view) {
    store.set("inbox", { ...store.get("inbox", {}), ...view });
    showQueue(store.get("inbox", null));
    pollInbox();
  }

  async function pollInbox() {
    clearTimeout(inboxTimer);
    inboxTimer = null;
    const known = store.get("inbox", null);
    if (!known || known.open !== true || inboxBusy) return;
    inboxBusy = true;
    const after = Number(store.get("inboxAfter", 0)) || 0;
    try {
      const inbox = await api("GET", `/api/chat/inbox?sender_id=${encodeURIComponent(state.sender)}&after=${after}`);
      let first = null;
      for (const m of inbox.messages || []) {
        const el = add({ kind: "agent", text: `${AGENT_PREFIX}${m.text}` });
        first = first || el;
        store.set("inboxAfter", m.id);
      }
      if (first) reveal(first);
      const view = {
        open: inbox.open === true,
        status: inbox.status,
        ticket: inbox.ticket,
        position: inbox.position,
        hours: inbox.hours,
        open_now: inbox.open_now,
      };
      store.set("inbox", view);
      showQueue(view);
    } catch {
      /* offline for a moment: the next poll tries again */
    } finally {
      inboxBusy = false;
    }
    const now = store.get("inbox", null);
    if (now && now.open === true) inboxTimer = setTimeout(pollInbox, INBOX_POLL_MS);
  }

  // ---- start ---------------------------------------------------------------------------------
  setElder(state.elder);
  greet();
  for (const entry of state.history) list.append(render(entry));
  document.body.append(host);
  syncModal();
  const draft = tab.get("booking", null);
  if (draft && typeof draft === "object" && typeof draft.service === "string") openBooking(draft.service, draft, false);
  if (state.open) openPanel(false);
  const inbox = store.get("inbox", null);
  if (inbox && inbox.open === true) {
    showQueue(inbox);
    pollInbox();
  } else if (store.get("inboxOpen", false) === true) {
    startInbox({ open: true }); // saved by an earlier version of the widget
  }
})();
