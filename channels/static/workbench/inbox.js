/*
 * 待答问题 (role 知识): groups of unanswered questions and what staff do with each —
 * GET /api/workbench/inbox, POST /api/workbench/inbox/{alias,faq,intent,out-of-scope,dismiss},
 * POST /api/workbench/knowledge/publish. Built with Workbench.h (textContent only).
 */
(() => {
  "use strict";
  const { h } = window.Workbench;
  const REASONS = { fallback: "兜底回复", low_confidence: "置信度低", low_rating: "评分低" };
  const CHANNELS = { web: "网页", wechat: "微信", window: "窗口", hotline: "热线" };
  let guides = [];
  let intents = [];

  const $ = (id) => document.getElementById(id);
  const when = (iso) => iso.replace("T", " ").slice(0, 16);
  const tally = (counts, names) =>
    Object.entries(counts).map(([key, n]) => `${names[key] || key} ${n}`).join("，");

  async function load() {
    const params = new URLSearchParams();
    if ($("inbox-since").value) params.set("since", $("inbox-since").value);
    if ($("inbox-until").value) params.set("until", $("inbox-until").value);
    $("inbox-summary").textContent = "加载中…";
    try {
      const page = await Workbench.api("GET", `/api/workbench/inbox?${params}`);
      guides = page.guides;
      intents = page.intents;
      $("inbox-summary").textContent = page.groups.length
        ? `共 ${page.groups.length} 组、${page.turns} 条待处理的问题。` +
          (page.turns >= page.limit ? `（只列出最近的 ${page.limit} 条，处理后再看更早的。）` : "")
        : "没有待处理的问题。";
      $("inbox-groups").replaceChildren(...page.groups.map(groupCard));
    } catch (err) {
      $("inbox-summary").textContent = err.message;
    }
  }

  // Nothing is preselected: retrieval's pick for a question it could not answer is often wrong,
  // and one careless click would make 港澳通行证 an alias of 结婚登记. Staff choose.
  function guideSelect() {
    return h("select", { "aria-label": "办事指南" }, h("option", { value: "" }, "请选择办事指南"),
      guides.map((g) => h("option", { value: g.id }, g.name)));
  }

  function groupCard(group) {
    const error = h("p", { class: "error", role: "alert" });
    const card = h("article", { class: "card kn-group", "data-label": group.label });
    const suggested = group.suggestion;

    async function act(path, body, button) {
      error.textContent = "";
      button.disabled = true;
      try {
        const done = await Workbench.api("POST", `/api/workbench/inbox/${path}`,
          { turn_ids: group.turn_ids, ...body });
        Workbench.banner(done.message, "info");
        card.remove();
      } catch (err) {
        error.textContent = err.message;
        button.disabled = false;
      }
    }

    const aliasGuide = guideSelect();
    const alias = h("input", { value: group.label, maxlength: "30", "aria-label": "别名" });
    const aliasButton = h("button", { type: "button" }, "加为别名");
    aliasButton.addEventListener("click", () =>
      act("alias", { guide_id: aliasGuide.value, alias: alias.value }, aliasButton));

    const faqGuide = guideSelect();
    const question = h("input", { value: group.label, maxlength: "200", "aria-label": "问题" });
    const answer = h("textarea", { rows: "3", maxlength: "2000", "aria-label": "答案", placeholder: "答案（居民会看到）" });
    const faqButton = h("button", { type: "button" }, "加为常见问题");
    faqButton.addEventListener("click", () =>
      act("faq", { guide_id: faqGuide.value, question: question.value, answer: answer.value }, faqButton));

    const intent = h("select", { "aria-label": "意图" }, h("option", { value: "" }, "请选择意图"),
      intents.map((name) => h("option", { value: name }, name)));
    const intentButton = h("button", { type: "button" }, "标注意图");
    intentButton.addEventListener("click", () => act("intent", { intent: intent.value }, intentButton));

    const outButton = h("button", { type: "button", class: "secondary" }, "不属于政务服务");
    outButton.addEventListener("click", () => act("out-of-scope", {}, outButton));
    const dismissButton = h("button", { type: "button", class: "secondary" }, "忽略");
    dismissButton.addEventListener("click", () => act("dismiss", {}, dismissButton));

    card.append(
      h("header", {},
        h("h3", {}, group.label),
        h("span", { class: "kn-count" }, `${group.count} 次`),
        h("span", { class: "muted" }, `${tally(group.channels, CHANNELS)} · ${tally(group.reasons, REASONS)}`),
        h("span", { class: "muted" }, `${when(group.first_seen)} 至 ${when(group.last_seen)}`)),
      h("ul", { class: "kn-examples" }, group.examples.map((text) => h("li", {}, text))),
      h("p", { class: "muted" }, suggested
        ? `检索现在会给：《${suggested.title}》· ${suggested.section_label}${suggested.confident ? "" : "（没有把握）"}`
        : "检索现在找不到相关的办事指南。"),
      h("div", { class: "kn-actions" },
        h("div", { class: "kn-action" }, h("h4", {}, "加为别名"), aliasGuide, alias, aliasButton),
        h("div", { class: "kn-action" }, h("h4", {}, "加为常见问题"), faqGuide, question, answer, faqButton),
        h("div", { class: "kn-action" }, h("h4", {}, "标注正确意图"), intent,
          h("p", { class: "hint" }, "本组问法写入标注文件，下次训练时使用。"), intentButton)),
      h("div", { class: "kn-quick" }, outButton, dismissButton),
      error);
    return card;
  }

  async function publish() {
    const button = $("inbox-publish");
    const output = $("inbox-published");
    button.disabled = true;
    output.hidden = false;
    output.textContent = "正在发布（重建索引）…";
    try {
      const done = await Workbench.api("POST", "/api/workbench/knowledge/publish");
      output.textContent = [done.summary, ...done.problems.map((p) => `未通过校验：${p}`)].join("\n");
    } catch (err) {
      output.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  }

  addEventListener("DOMContentLoaded", () => {
    Workbench.start({
      roles: ["knowledge"],
      onReady() {
        $("inbox-filter").addEventListener("submit", (event) => { event.preventDefault(); load(); });
        $("inbox-publish").addEventListener("click", publish);
        load();
      },
    });
  });
})();
