/*
 * 节假日 page: how far the working-day calendar reaches, the years staff entered, and (知识 role)
 * entering a year the State Council has announced. API: channels/routes/workbench_holidays.py.
 */
(() => {
  "use strict";

  const { h } = window.Workbench;
  const NAMES = ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"];
  const $ = (id) => document.getElementById(id);

  function split(text) {
    return text
      .split(/[,，、\n]/)
      .map((part) => part.trim())
      .filter(Boolean);
  }

  function fileCard(file, canEdit) {
    const rows = Object.entries(file.holidays).map(([name, days]) =>
      h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, days.join("，"))),
    );
    rows.push(h("tr", {}, h("th", { scope: "row" }, "调休上班日"), h("td", {}, file.workdays.join("，") || "无")));
    return h(
      "section",
      { class: "card", "aria-label": `${file.year}年放假安排` },
      h("h3", {}, `${file.year}年（${file.file}${file.active ? "" : "，chinesecalendar 已包含此年份，文件不再使用"}）`),
      h("p", {}, `依据：${file.notice.title}（${file.notice.number}，${file.notice.date}），共放假 ${file.days_off} 天。`),
      h("table", { class: "wb-table" }, h("tbody", {}, rows)),
      canEdit ? h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => edit(file) }, "修改")) : null,
    );
  }

  function edit(file) {
    $("hol-year").value = file.year;
    $("hol-number").value = file.notice.number;
    $("hol-notice-title").value = file.notice.title;
    $("hol-notice-date").value = file.notice.date;
    for (const name of NAMES) $(`hol-day-${name}`).value = (file.holidays[name] || []).join(", ");
    $("hol-workdays").value = file.workdays.join(", ");
    $("hol-year").focus();
  }

  async function load() {
    const [status, listing] = await Promise.all([
      Workbench.api("GET", "/api/workbench/holidays/status"),
      Workbench.api("GET", "/api/workbench/holidays"),
    ]);
    $("hol-status").textContent = status.message;
    $("hol-status").className = status.warn ? "error" : "";
    Workbench.banner(status.warn ? status.message : ""); // a year just saved ends the shell's warning
    const pkg = listing.package;
    $("hol-years").replaceChildren(
      ...listing.years.map((y) =>
        h("tr", {}, h("td", {}, `${y.year}年`), h("td", {}, y.source === "chinesecalendar" ? `chinesecalendar ${pkg.version}（${pkg.first_year}—${pkg.last_year}年）` : `工作人员录入：${y.source}`)),
      ),
    );
    $("hol-problems").replaceChildren(
      ...listing.problems.map((p) => h("p", {}, `未生效：${p}`)),
    );
    const canEdit = Workbench.hasRole("knowledge");
    $("hol-files").replaceChildren(...listing.files.map((f) => fileCard(f, canEdit)));
    if (canEdit && !$("hol-year").value) $("hol-year").value = status.covered_until.slice(0, 4) * 1 + 1;
  }

  async function save(event) {
    event.preventDefault();
    $("hol-error").textContent = "";
    $("hol-saved").textContent = "";
    const holidays = {};
    for (const name of NAMES) {
      const days = split($(`hol-day-${name}`).value);
      if (days.length) holidays[name] = days;
    }
    const body = {
      notice: { number: $("hol-number").value, title: $("hol-notice-title").value, date: $("hol-notice-date").value },
      holidays,
      workdays: split($("hol-workdays").value),
    };
    try {
      const saved = await Workbench.api("PUT", `/api/workbench/holidays/${encodeURIComponent($("hol-year").value)}`, body);
      $("hol-saved").textContent = `已保存 ${saved.file}，共放假 ${saved.days_off} 天。`;
      await load();
    } catch (error) {
      $("hol-error").textContent = error.message;
    }
  }

  Workbench.start({
    roles: ["knowledge", "admin"],
    async onReady() {
      if (Workbench.hasRole("knowledge")) {
        $("hol-days").replaceChildren(
          ...NAMES.map((name) =>
            h("p", {}, h("label", { for: `hol-day-${name}` }, name), " ", h("input", { id: `hol-day-${name}`, type: "text", size: 50 })),
          ),
        );
        $("hol-form").addEventListener("submit", save);
        $("hol-editor").hidden = false;
      }
      try {
        await load();
      } catch (error) {
        Workbench.banner(error.message, "error");
      }
    },
  });
})();
