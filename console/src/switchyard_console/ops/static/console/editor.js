/* The console's JSON editor: CodeMirror on every textarea.json-editor.
 *
 * The textarea stays the form field: CodeMirror writes back to it on submit.
 * A status line under each editor says whether the text parses as JSON and
 * where it does not; the problems the server found are marked on their
 * lines (a dot in the gutter whose tooltip is the message). Textareas with class json-view
 * become read-only viewers.
 */
(function () {
  "use strict";

  function statusLine(editor, holder) {
    var line = document.createElement("div");
    line.className = "json-status";
    holder.parentNode.insertBefore(line, holder.nextSibling);
    function check() {
      var text = editor.getValue();
      if (!text.trim()) { line.textContent = ""; return; }
      try {
        JSON.parse(text);
        line.textContent = "JSON: valid syntax";
        line.className = "json-status ok";
      } catch (err) {
        line.textContent = "JSON: " + err.message;
        line.className = "json-status bad";
      }
    }
    editor.on("changes", check);
    check();
  }

  function markProblems(editor, marks) {
    if (!Array.isArray(marks)) { return; }
    var byLine = {};
    marks.forEach(function (mark) {
      (byLine[mark.line] = byLine[mark.line] || []).push(mark.message);
    });
    Object.keys(byLine).forEach(function (line) {
      var index = parseInt(line, 10) - 1;
      if (index < 0 || index >= editor.lineCount()) { return; }
      editor.addLineClass(index, "background", "cm-problem-line");
      var marker = document.createElement("span");
      marker.className = "cm-problem-marker";
      marker.title = byLine[line].join("\n");
      marker.textContent = "\u25cf";
      editor.setGutterMarker(index, "problems", marker);
    });
  }

  function enhance(area) {
    var readOnly = area.classList.contains("json-view");
    var editor = CodeMirror.fromTextArea(area, {
      mode: { name: "javascript", json: true },
      lineNumbers: true,
      matchBrackets: true,
      autoCloseBrackets: !readOnly,
      readOnly: readOnly,
      indentUnit: 2,
      tabSize: 2,
      lineWrapping: false,
      gutters: ["problems", "CodeMirror-linenumbers"],
      extraKeys: {
        "Ctrl-Enter": function () { if (area.form) { area.form.requestSubmit(); } },
        Tab: function (cm) { cm.execCommand("insertSoftTab"); }
      }
    });
    area.codemirror = editor;
    var rows = parseInt(area.getAttribute("rows") || "12", 10);
    editor.setSize(null, Math.max(rows, 6) * 18 + 10);
    if (!readOnly) {
      statusLine(editor, editor.getWrapperElement());
      var source = document.getElementById(area.getAttribute("data-marks") || "");
      if (source) { markProblems(editor, JSON.parse(source.textContent)); }
    }
  }

  function jumpToLines() {
    var area = document.getElementById("id_document");
    document.querySelectorAll("a.problem-line").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (!area || !area.codemirror) { return; }
        event.preventDefault();
        var line = parseInt(link.getAttribute("data-line"), 10) - 1;
        area.codemirror.focus();
        area.codemirror.setCursor({ line: line, ch: 0 });
        area.codemirror.scrollIntoView({ line: line, ch: 0 }, 80);
      });
    });
  }

  function start() {
    if (typeof CodeMirror === "undefined") { return; }
    document.querySelectorAll("textarea.json-editor, textarea.json-view").forEach(enhance);
    jumpToLines();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
