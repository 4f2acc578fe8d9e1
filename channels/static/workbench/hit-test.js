/*
 * 命中测试 (role 知识): GET /api/workbench/hit-test?q= — the text as retrieval reads it, each
 * document's hybrid / BM25 / dense rank and score, the answering core's decision and its reply.
 */
(() => {
  "use strict";
  const { h } = window.Workbench;
  const $ = (id) => document.getElementById(id);
  const num = (value, digits = 4) => (value === null || value === undefined ? "—" : Number(value).toFixed(digits));
  const rank = (value) => (value === null || value === undefined ? "—" : String(value));

  function facts(target, rows) {
    target.replaceChildren(...rows.filter(([, value]) => value).flatMap(([label, value]) =>
      [h("dt", {}, label), h("dd", {}, value)]));
  }

  function render(result) {
    facts($("hit-text"), [
      ["原文", result.query],
      ["规范化（繁简、全半角、语气词）", result.normalized],
      ["纠错后", result.corrected + (result.corrections.length
        ? `（${result.corrections.map(([typed, read]) => `${typed}→${read}`).join("，")}）` : "（无纠错）")],
      ["同义词扩展（BM25）", result.bm25_text],
      ["语义检索文本", result.dense_text],
      ["分词", result.tokens.join(" / ") || "（无）"],
      ["点名的事项", result.linked_names.join("、") || "（无）"],
      ["问的方面", result.asked_section_label || "（未识别）"],
      ["意图识别", result.nlu ? `${result.nlu.intent || "（无）"} ${num(result.nlu.confidence, 2)}` : result.nlu_error || "（未调用）"],
    ]);
    const d = result.decision;
    facts($("hit-decision"), [
      ["决策", `${d.kind_label}（${d.kind}）`],
      ["依据", `${d.evidence_label}${d.reason && d.reason !== d.evidence_label ? `；${d.reason}` : ""}`],
      ["检索把握", d.confident ? "有把握" : "没有把握"],
      ["事项", d.guide_name],
      ["段落", d.section_label],
      ["情形", d.situation],
      ["常见问题", d.faq_question],
      ["政策条款", d.policy_title],
      ["可选事项", d.options.join("、")],
    ]);
    $("hit-checks").tBodies[0].replaceChildren(...result.checks.map((c) => h("tr", {},
      h("td", {}, c.label), h("td", { class: "num" }, num(c.value)), h("td", { class: "num" }, num(c.threshold)),
      h("td", { class: c.passed ? "pass" : "fail" }, c.passed ? "达到" : "未达到"))));
    $("hit-reply").textContent = result.reply + (result.buttons.length ? `\n［按钮］${result.buttons.join(" | ")}` : "");
    $("hit-docs").tBodies[0].replaceChildren(...result.documents.map((doc) => h("tr", { "data-doc": doc.doc_id },
      h("td", {}, doc.title), h("td", { class: "num" }, rank(doc.hybrid_rank)), h("td", { class: "num" }, num(doc.hybrid_score)),
      h("td", {}, doc.section_label || "—"),
      h("td", { class: "num" }, rank(doc.bm25_rank)), h("td", { class: "num" }, num(doc.bm25_score, 2)),
      h("td", { class: "num" }, rank(doc.dense_rank)), h("td", { class: "num" }, num(doc.dense_score)))));
    $("hit-result").hidden = false;
  }

  async function test(event) {
    event.preventDefault();
    const q = $("hit-q").value.trim();
    $("hit-error").textContent = "";
    if (!q) {
      $("hit-error").textContent = "请输入要测试的问题。";
      return;
    }
    const button = event.target.querySelector("button");
    button.disabled = true;
    try {
      render(await Workbench.api("GET", `/api/workbench/hit-test?q=${encodeURIComponent(q)}`));
    } catch (err) {
      $("hit-error").textContent = err.message;
    } finally {
      button.disabled = false;
    }
  }

  addEventListener("DOMContentLoaded", () => {
    Workbench.start({ roles: ["knowledge"], onReady() { $("hit-form").addEventListener("submit", test); } });
  });
})();
