/*
 * 看板 — the service centre's dashboard (roles 数据 and 管理员). Plain JS, no build.
 *
 * One request (/api/workbench/dashboard) gives every figure of the chosen period as named tables;
 * each card draws its ECharts chart from its table and can show the table itself and export it
 * (/api/workbench/export, CSV or Excel), so the chart, the table and the file hold the same numbers.
 */
(() => {
  "use strict";

  const { h } = Workbench;
  const $ = (id) => document.getElementById(id);
  const PALETTE = ["#0b5cad", "#3ebd93", "#f0b429", "#e66a4e", "#8e6bbf", "#2bb0c9", "#9aa5b1", "#c44d8a"];
  const RATE_COLUMNS = new Set(["占比", "转人工率"]);
  const RATE_ROWS = new Set(["转人工率"]);
  const charts = new Map();
  let current = null;

  // ---- formatting ------------------------------------------------------------------------------
  const pct = (value) => `${(100 * value).toFixed(1)}%`;
  const num = (value) => (value === null || value === undefined ? "–" : Number(value).toLocaleString("zh-CN"));

  function cellText(table, row, index) {
    const value = row[index];
    if (value === null || value === undefined) return "";
    if (typeof value === "number" && (RATE_COLUMNS.has(table.columns[index]) || (index === 1 && RATE_ROWS.has(row[0])))) {
      return pct(value);
    }
    return typeof value === "number" ? num(value) : String(value);
  }

  // ---- charts, one per table -------------------------------------------------------------------
  const base = (extra) => ({
    color: PALETTE,
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    grid: { left: 48, right: 24, top: 36, bottom: 32, containLabel: true },
    tooltip: { trigger: "axis" },
    animation: false,
    ...extra,
  });
  const col = (table, index) => table.rows.map((row) => row[index]);

  function daily(table) {
    return base({
      legend: { top: 0 },
      xAxis: { type: "category", data: col(table, 0).map((d) => d.slice(5)) },
      yAxis: { type: "value", name: "轮次" },
      series: [
        { name: "对话轮次", type: "line", data: col(table, 1), smooth: true, areaStyle: { opacity: 0.12 } },
        { name: "已回答", type: "bar", stack: "kind", data: col(table, 2) },
        { name: "未能回答", type: "bar", stack: "kind", data: col(table, 3) },
        { name: "转人工", type: "bar", stack: "kind", data: col(table, 4) },
      ],
    });
  }

  function bars(table, { horizontal = false, label = 0, value = 1, name = "轮次" } = {}) {
    const categories = col(table, label);
    const data = col(table, value);
    const category = { type: "category", data: horizontal ? [...categories].reverse() : categories,
      axisLabel: { width: 160, overflow: "truncate" } };
    const values = { type: "value", name };
    return base({
      xAxis: horizontal ? values : category,
      yAxis: horizontal ? category : values,
      series: [{ type: "bar", name, data: horizontal ? [...data].reverse() : data, label: { show: horizontal, position: "right" } }],
    });
  }

  function pie(table) {
    return base({
      tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
      legend: { orient: "vertical", right: 8, top: "middle" },
      series: [{
        type: "pie", radius: ["40%", "70%"], center: ["40%", "50%"],
        label: { formatter: "{b} {d}%" },
        data: table.rows.filter((row) => row[1] > 0).map((row) => ({ name: row[0], value: row[1] })),
      }],
    });
  }

  function trend(table) {
    return base({
      legend: { top: 0, type: "scroll" },
      xAxis: { type: "category", data: col(table, 0).map((d) => d.slice(5)) },
      yAxis: { type: "value", name: "轮次" },
      series: table.columns.slice(1).map((name, i) => ({ name, type: "line", smooth: true, data: col(table, i + 1) })),
    });
  }

  function satisfaction(table, labelIndex) {
    const rows = table.rows.slice(0, 10);
    return base({
      tooltip: { trigger: "axis", formatter: (items) => {
        const row = rows[rows.length - 1 - items[0].dataIndex];
        return `${row[labelIndex]}<br>平均 ${row[labelIndex + 2]} 分，${row[labelIndex + 1]} 条评价，差评 ${row[labelIndex + 3]} 条`;
      } },
      xAxis: { type: "value", min: 0, max: 5, name: "平均分" },
      yAxis: { type: "category", data: rows.map((row) => row[labelIndex]).reverse(), axisLabel: { width: 160, overflow: "truncate" } },
      series: [{ type: "bar", data: rows.map((row) => row[labelIndex + 2]).reverse(), label: { show: true, position: "right" },
        itemStyle: { color: (p) => (p.value < 4 ? "#e66a4e" : "#3ebd93") } }],
    });
  }

  // The forecast card draws one service at a time: demand bars (red where short) against seats.
  function forecast(table, service) {
    const rows = table.rows.filter((row) => row[0] === service);
    const days = rows.map((row) => `${row[2].slice(5)}${row[3] === "是" ? "" : "（休）"}`);
    return base({
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: days },
      yAxis: { type: "value", name: "预约请求 / 号源" },
      series: [
        { name: "预计预约请求", type: "line", data: rows.map((row) => row[4]), smooth: true, lineStyle: { type: "dashed" } },
        { name: "待满足需求", type: "bar", data: rows.map((row) => ({
          value: row[5], itemStyle: { color: row[7] !== null ? "#e66a4e" : "#0b5cad" } })) },
        { name: "可约号源", type: "line", step: "middle", data: rows.map((row) => row[6]), lineStyle: { width: 3 }, itemStyle: { color: "#3ebd93" } },
      ],
    });
  }

  const CARDS = [
    { table: "daily", wide: true, option: daily },
    { table: "hourly", option: (t) => bars(t) },
    { table: "channels", option: pie },
    { table: "outcomes", option: pie },
    { table: "services", option: (t) => bars(t, { horizontal: true, label: 1, value: 2 }) },
    { table: "service_trend", wide: true, option: trend },
    { table: "satisfaction_guides", option: (t) => satisfaction(t, 1) },
    { table: "satisfaction_channels", option: (t) => satisfaction(t, 0) },
    { table: "districts", option: (t) => bars(t, { horizontal: true }) },
    { table: "handoffs", showTable: true },
    { table: "unanswered", wide: true, showTable: true },
    { table: "forecast", wide: true, option: null },
  ];

  // ---- rendering -------------------------------------------------------------------------------
  function query(extra) {
    const params = new URLSearchParams({ start: $("start").value, end: $("end").value, ...extra });
    if ($("channel").value) params.set("channel", $("channel").value);
    return params.toString();
  }

  function tableElement(table) {
    if (!table.rows.length) return h("p", { class: "muted" }, "这段时间没有数据。");
    return h("table", { class: "wb-table" },
      h("thead", {}, h("tr", {}, table.columns.map((c, i) =>
        h("th", { scope: "col", class: table.rows.some((r) => typeof r[i] === "number") ? "num" : null }, c)))),
      h("tbody", {}, table.rows.map((row) => h("tr", { class: row[7] && table.name === "forecast" ? "short" : null },
        row.map((_, i) => h("td", { class: typeof row[i] === "number" ? "num" : null }, cellText(table, row, i)))))));
  }

  function exportLinks(table) {
    return h("span", { class: "exports" },
      h("a", { class: "export", href: `/api/workbench/export?${query({ table: table.name, format: "csv" })}`, download: "" }, "CSV"),
      h("a", { class: "export", href: `/api/workbench/export?${query({ table: table.name, format: "xlsx" })}`, download: "" }, "Excel"));
  }

  function draw(el, option) {
    let chart = charts.get(el.id);
    if (!chart) {
      chart = echarts.init(el, null, { renderer: "canvas" });
      charts.set(el.id, chart);
    }
    chart.setOption(option, true);
  }

  function forecastCard(card, table, data) {
    const services = [...new Map(table.rows.map((row) => [row[0], row[1]])).entries()];
    const shortRows = table.rows.filter((row) => row[7] !== null);
    const chartEl = h("div", { class: "chart", id: "chart-forecast", role: "img", "aria-label": table.title });
    const select = h("select", { id: "forecast-service", "aria-label": "预测的事项" },
      services.map(([id, name]) => h("option", { value: id }, name)));
    select.addEventListener("change", () => draw(chartEl, forecast(table, select.value)));
    card.append(
      h("p", { class: "hint" }, data.forecast_note),
      services.length ? h("div", { class: "forecast-pick" }, h("label", { for: "forecast-service" }, "事项"), select) : null,
      services.length ? chartEl : h("p", { class: "muted" }, "还没有预约请求的历史，暂不能预测。"),
      shortRows.length
        ? h("div", { class: "shortfall", id: "shortfall" },
          h("h3", {}, `号源可能不足的日期（${shortRows.length} 天）`),
          h("ul", {}, shortRows.map((row) =>
            h("li", {}, `${row[1]}：${row[2]} 预计 ${row[5]} 个请求，可约 ${row[6]} 个，缺口 ${row[7]}`))))
        : services.length ? h("p", { class: "ok", id: "shortfall" }, "未来各天的号源都够用。") : null,
      h("details", {}, h("summary", {}, "查看表格"), tableElement(table)));
    return () => { if (services.length) draw(chartEl, forecast(table, select.value)); };
  }

  function render(data) {
    current = data;
    const s = data.summary;
    $("kpi-turns").textContent = num(s.turns);
    $("kpi-answered").textContent = pct(s.answered_rate);
    $("kpi-fallback").textContent = pct(s.fallback_rate);
    $("kpi-handoff").textContent = pct(s.handoff_rate);
    $("kpi-claim").textContent = s.mean_claim_minutes === null ? "–" : `${s.mean_claim_minutes} 分钟`;
    $("kpi-satisfaction").textContent = s.satisfaction === null ? "–" : `${s.satisfaction}（${num(s.ratings)} 条）`;
    $("export-all").href = `/api/workbench/export?${query({ table: "all", format: "xlsx" })}`;

    for (const chart of charts.values()) chart.dispose();
    charts.clear();
    const tables = new Map(data.tables.map((t) => [t.name, t]));
    const later = [];
    $("cards").replaceChildren(...CARDS.filter((c) => tables.has(c.table)).map((card) => {
      const table = tables.get(card.table);
      const el = h("section", { class: `card chart-card${card.wide ? " wide" : ""}`, id: `card-${table.name}`, "aria-labelledby": `title-${table.name}` },
        h("header", {}, h("h2", { id: `title-${table.name}` }, table.title), exportLinks(table)));
      if (table.name === "forecast") {
        later.push(forecastCard(el, table, data));
      } else if (card.option) {
        const chartEl = h("div", { class: "chart", id: `chart-${table.name}`, role: "img", "aria-label": table.title });
        el.append(table.rows.length ? chartEl : h("p", { class: "muted" }, "这段时间没有数据。"),
          h("details", {}, h("summary", {}, "查看表格"), tableElement(table)));
        if (table.rows.length) later.push(() => draw(chartEl, card.option(table)));
      } else {
        el.append(tableElement(table));
      }
      return el;
    }));
    for (const drawLater of later) drawLater();
  }

  async function load() {
    $("error").textContent = "";
    $("status").textContent = "正在计算…";
    $("apply").disabled = true;
    try {
      render(await Workbench.api("GET", `/api/workbench/dashboard?${query({})}`));
      $("status").textContent = `${current.start} 至 ${current.end}`;
      document.body.dataset.loaded = "true";
    } catch (err) {
      $("error").textContent = err.message;
      $("status").textContent = "";
    } finally {
      $("apply").disabled = false;
    }
  }

  async function ready() {
    const today = new Date();
    const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    const start = new Date(today);
    start.setDate(today.getDate() - 29);
    $("start").value = iso(start);
    $("end").value = iso(today);
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      if ($("start").value > $("end").value) {
        $("error").textContent = "开始日期不能晚于结束日期。";
        return;
      }
      load();
    });
    await load();
    if (current) {
      $("channel").replaceChildren(h("option", { value: "" }, "全部渠道"),
        ...current.channels.map((c) => h("option", { value: c.value }, c.label)));
    }
    addEventListener("resize", () => { for (const chart of charts.values()) chart.resize(); });
  }

  Workbench.start({ roles: ["analyst", "admin"], onReady: ready });
})();
