/*
 * 服务中心工作台 — the shell every workbench page shares. Plain JS, no build.
 *
 * A page is an HTML file in channels/static/workbench/<name>.html, served by
 * channels/routes/workbench_pages.py; its assets are under /workbench/assets/<file>. Skeleton:
 *
 *   <link rel="stylesheet" href="/workbench/assets/workbench.css">
 *   <script src="/workbench/assets/common.js" defer></script>
 *   <script src="/workbench/assets/inbox.js" defer></script>
 *   <body data-page="inbox">              <!-- key of NAV below: marks the current link -->
 *     <main id="wb-main" hidden>…the page's own content…</main>
 *
 * The shell inserts before #wb-main: the top bar (title, nav links, who is signed in, 退出), the
 * banner slot (holiday warning) and the login form / 无权限 message. #wb-main is shown only when
 * a member of staff with one of the page's roles is signed in.
 *
 * API (window.Workbench):
 *   Workbench.start({roles: ["analyst", "admin"], onReady(profile)})
 *       Call once from the page script. Asks /api/staff/me; when not signed in shows the login form
 *       (POST /api/staff/login); when signed in without any of `roles`, shows a 无权限 message.
 *       Then shows #wb-main and calls onReady(profile) — profile is /api/staff/me's answer:
 *       {login, display_name, roles, role_labels, csrf_token, expires_at, idle_minutes}.
 *   await Workbench.api(method, url, body?)
 *       JSON request with the session cookie; writes (non-GET) send X-CSRF-Token. Resolves to the
 *       parsed JSON (null for 204). Throws Error whose .message is the server's Chinese message
 *       (detail.message / detail string / first validation error) and .status the HTTP status.
 *       A 401 (session ended) sends the page back to the login form.
 *   Workbench.h(tag, attrs, ...children)
 *       Builds an element; children are nodes or text (never parsed as HTML). attrs: class, on<event>
 *       handlers, anything else as an attribute (false/null/undefined skipped).
 *   Workbench.banner(text, kind = "warn"|"info"|"error")  shows a message in the banner slot;
 *       Workbench.banner("") clears it. The holiday warning from GET /api/workbench/holidays/status
 *       ({covered_until, days_left, warn, message}) is shown there automatically when warn is true
 *       (a missing endpoint or a role that may not read it is ignored).
 *   Workbench.profile()  the signed-in profile or null.
 *   Workbench.hasRole(...roles)  true when the signed-in member holds any of them.
 *   Workbench.NAV  the nav table; a page's owner sets its roles there.
 *
 * Everything shown is built with textContent, never innerHTML. Without input for the session's idle
 * time the page signs out itself (its own requests must not keep an unattended screen signed in).
 */
(() => {
  "use strict";

  // Each link is shown only to the roles that may open the page (the routes check again).
  const NAV = [
    { page: "dashboard", href: "/workbench", label: "看板", roles: ["analyst", "admin"] },
    { page: "inbox", href: "/workbench/inbox", label: "待答问题", roles: ["knowledge"] },
    { page: "hit-test", href: "/workbench/hit-test", label: "命中测试", roles: ["knowledge"] },
    { page: "holidays", href: "/workbench/holidays", label: "节假日", roles: ["knowledge", "admin"] },
  ];
  const ROLE_NAMES = {
    agent: "坐席", business: "业务", knowledge: "知识", analyst: "数据", auditor: "审计", admin: "管理员",
  };
  const IDLE_CHECK_MS = 30000;

  let profile = null;
  let options = null;
  let lastInput = Date.now();
  let started = false;

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function errorMessage(status, data) {
    const detail = data && data.detail;
    if (typeof detail === "string") return detail;
    if (detail && typeof detail.message === "string") return detail.message;
    if (Array.isArray(detail) && detail.length && detail[0].msg) return `请求有误：${detail[0].msg}`;
    if (status === 403) return "您的账号没有权限做这件事。";
    return `请求失败（${status}）`;
  }

  async function api(method, url, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET" && method !== "HEAD" && profile) headers["X-CSRF-Token"] = profile.csrf_token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new Error("网络异常，请稍后再试。");
    }
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const err = new Error(errorMessage(response.status, data));
      err.status = response.status;
      if (response.status === 401 && profile && url !== "/api/staff/me") {
        signedOut("登录已失效，请重新登录。");
      }
      throw err;
    }
    return data;
  }

  // ---- layout ----------------------------------------------------------------------------------
  const parts = {};

  function build() {
    const main = document.getElementById("wb-main");
    if (!main) throw new Error("workbench page lacks #wb-main");
    main.hidden = true;
    parts.nav = h("nav", { class: "wb-nav", "aria-label": "工作台导航" });
    parts.who = h("p", { class: "wb-who" });
    parts.logout = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => logout() }, "退出");
    const bar = h("header", { class: "wb-bar" },
      h("h1", {}, h("a", { href: "/workbench" }, "服务中心工作台")), parts.nav, parts.who, parts.logout);
    parts.banner = h("div", { class: "wb-banner", role: "status", "aria-live": "polite", hidden: true });
    parts.name = h("input", { id: "wb-login-name", name: "login", autocomplete: "username",
      autocapitalize: "none", spellcheck: "false", maxlength: "32", required: true });
    parts.password = h("input", { id: "wb-login-password", name: "password", type: "password",
      autocomplete: "current-password", maxlength: "64", required: true });
    parts.loginError = h("p", { class: "error", role: "alert" });
    parts.submit = h("button", { type: "submit" }, "登录");
    parts.login = h("section", { class: "wb-login", hidden: true, "aria-labelledby": "wb-login-title" },
      h("form", { class: "card", novalidate: true, onsubmit: onLogin },
        h("h2", { id: "wb-login-title" }, "工作人员登录"),
        h("label", { for: "wb-login-name" }, "登录名（工号）"), parts.name,
        h("label", { for: "wb-login-password" }, "密码"), parts.password,
        parts.loginError, parts.submit,
        h("p", { class: "hint" }, `账号由管理员开设，本页须有${roleNames(options.roles)}角色。`)));
    parts.denied = h("section", { class: "wb-denied card", hidden: true, role: "alert" });
    main.before(bar, parts.banner, parts.login, parts.denied);
    parts.main = main;
  }

  function roleNames(roles) {
    return roles.map((role) => `“${ROLE_NAMES[role] || role}”`).join("或");
  }

  function hasRole(...roles) {
    return !!profile && profile.roles.some((role) => roles.includes(role));
  }

  function renderNav() {
    const current = document.body.dataset.page;
    parts.nav.replaceChildren(...NAV.filter((item) => hasRole(...item.roles)).map((item) =>
      h("a", { href: item.href, class: item.page === current ? "current" : null,
        "aria-current": item.page === current ? "page" : null }, item.label)));
  }

  function banner(text, kind = "warn") {
    parts.banner.textContent = text || "";
    parts.banner.className = `wb-banner ${kind}`;
    parts.banner.hidden = !text;
  }

  async function holidayWarning() {
    try {
      const status = await api("GET", "/api/workbench/holidays/status");
      if (status && status.warn && status.message) banner(status.message, "warn");
    } catch {
      // No such endpoint yet, or a role that may not read it: nothing to warn about here.
    }
  }

  // ---- signing in and out ----------------------------------------------------------------------
  function show(section) {
    parts.login.hidden = section !== "login";
    parts.denied.hidden = section !== "denied";
    parts.main.hidden = section !== "main";
  }

  function signedIn(me) {
    profile = me;
    lastInput = Date.now();
    parts.who.textContent = `${me.display_name}（${me.login}）· ${me.role_labels.join("、")}`;
    parts.logout.hidden = false;
    renderNav();
    if (!hasRole(...options.roles)) {
      const links = NAV.filter((item) => hasRole(...item.roles));
      parts.denied.replaceChildren(
        h("h2", {}, "无权限"),
        h("p", {}, `本页须有${roleNames(options.roles)}角色，您的账号没有。`),
        links.length ? h("p", {}, "您可以打开：", links.map((item, i) =>
          [i ? "、" : "", h("a", { href: item.href }, item.label)])) : null);
      show("denied");
      return;
    }
    show("main");
    holidayWarning();
    if (!started) {
      started = true;
      options.onReady(me);
    }
  }

  function signedOut(message) {
    profile = null;
    parts.who.textContent = "";
    parts.logout.hidden = true;
    parts.nav.replaceChildren();
    banner("");
    parts.loginError.textContent = message || "";
    show("login");
    parts.name.focus();
  }

  async function onLogin(event) {
    event.preventDefault();
    const login = parts.name.value.trim();
    const password = parts.password.value;
    if (!login || !password) {
      parts.loginError.textContent = "请填写登录名和密码。";
      return;
    }
    parts.loginError.textContent = "";
    parts.submit.disabled = true;
    try {
      const me = await api("POST", "/api/staff/login", { login, password });
      parts.password.value = "";
      signedIn(me);
    } catch (err) {
      parts.loginError.textContent = err.message;
      parts.password.select();
    } finally {
      parts.submit.disabled = false;
    }
  }

  async function logout(message) {
    if (profile) await api("POST", "/api/staff/logout").catch(() => {});
    signedOut(message);
  }

  function watchIdle() {
    for (const kind of ["keydown", "pointerdown"]) {
      document.addEventListener(kind, () => { lastInput = Date.now(); }, true);
    }
    setInterval(() => {
      if (profile && Date.now() - lastInput >= profile.idle_minutes * 60000) {
        logout("闲置时间过长，已自动退出，请重新登录。");
      }
    }, IDLE_CHECK_MS);
  }

  async function start(opts) {
    options = { roles: [], onReady: () => {}, ...opts };
    build();
    watchIdle();
    try {
      signedIn(await api("GET", "/api/staff/me"));
    } catch (err) {
      signedOut(err.status === 401 ? "" : err.message);
    }
  }

  window.Workbench = { start, api, h, banner, hasRole, profile: () => profile, NAV };
})();
