// Two ways of working the console for console_flow.mjs: MouseActor clicks
// and fills by accessible name; KeyboardActor reaches every control with
// Tab alone and works it with the keys a keyboard user has (type, Space,
// Enter, arrows), so the flow proves the console needs no mouse.

import assert from "node:assert/strict";

function taskItem(page, title) {
  return page.locator("li.task").filter({
    has: page.getByRole("heading", { name: title, exact: true }),
  });
}

export class MouseActor {
  constructor(page, w) {
    this.page = page;
    this.w = w;
  }

  async fill(label, text) {
    await this.page.getByLabel(label, { exact: true }).fill(text);
  }

  async press(name, task) {
    const scope = task ? taskItem(this.page, task) : this.page;
    await scope.getByRole("button", { name, exact: true }).click();
  }

  async toggle(label) {
    await this.page.getByRole("checkbox", { name: new RegExp(`^${label}\\b`) }).click();
  }

  async select(label, value) {
    await this.page.getByLabel(label, { exact: true }).selectOption(value);
  }

  async createTask(t) {
    await this.fill("Title", t.title);
    await this.fill("Description", t.description || "");
    await this.select("Status", t.status || "pending");
    await this.select("Priority", t.priority || "medium");
    await this.fill("Due date", t.due || "");
    await this.press("Add task");
    await this.page.getByText(`Added “${t.title}”.`).waitFor();
  }
}

// What the focused element is: its accessible name as a user hears it
// (label, or button text), its role-ish kind and the task it sits in.
function focused() {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const label = el.labels && el.labels[0] ? el.labels[0].innerText.trim() : "";
  const li = el.closest("li.task");
  return {
    kind: el.tagName === "BUTTON" ? "button" : el.type || el.tagName.toLowerCase(),
    name: el.tagName === "BUTTON" ? el.innerText.trim() : label,
    task: li ? li.querySelector(".task-title").innerText : null,
    value: "value" in el ? el.value : null,
  };
}

export class KeyboardActor {
  constructor(page, w) {
    this.page = page;
    this.w = w;
  }

  // Tabs forward until the focused control fits; fails after a full lap.
  async focus(fits, what) {
    for (let i = 0; i < 150; i++) {
      const f = await this.page.evaluate(focused);
      if (f && fits(f)) return f;
      await this.page.keyboard.press("Tab");
    }
    assert.fail(`keyboard: Tab never reaches ${what}`);
  }

  async fill(label, text) {
    const f = await this.focus((f) => f.kind !== "button" && f.name === label, label);
    if (f.kind === "datetime-local") return this.typeDateTime(text);
    if (f.kind === "date") return this.typeDate(text);
    await this.page.keyboard.press("Control+A");
    await this.page.keyboard.press("Backspace");
    if (text) await this.page.keyboard.type(text);
  }

  // Chromium's datetime-local takes its fields in the locale's order
  // (en-US: month, day, year, hour, minute, AM/PM), moving on by itself
  // except after the year (it takes up to six digits): Tab moves on.
  async typeDateTime(text) {
    const kb = this.page.keyboard;
    const now = await this.page.evaluate(() => document.activeElement.value);
    assert.equal(now, "", "keyboard: Due date starts empty here");
    if (!text) return;
    const [, y, mo, d, h, mi] = text.match(/^(\d+)-(\d+)-(\d+)T(\d+):(\d+)$/);
    const h12 = ((Number(h) + 11) % 12) + 1;
    await kb.type(`${mo}${d}${y}`);
    await kb.press("Tab");
    await kb.type(`${String(h12).padStart(2, "0")}${mi}`);
    await kb.type(Number(h) < 12 ? "A" : "P");
    const v = await this.page.evaluate(() => document.activeElement.value);
    assert.equal(v, text, "datetime-local typed by keyboard");
  }

  // A date input (en-US: month, day, year); Backspace empties a field,
  // and so the whole value.
  async typeDate(text) {
    const kb = this.page.keyboard;
    if (!text) {
      await kb.press("Backspace");
    } else {
      const [, y, mo, d] = text.match(/^(\d+)-(\d+)-(\d+)$/);
      await kb.type(`${mo}${d}${y}`);
    }
    const v = await this.page.evaluate(() => document.activeElement.value);
    assert.equal(v, text, "date typed by keyboard");
  }

  async press(name, task) {
    await this.focus((f) => f.kind === "button" && f.name === name &&
      (!task || f.task === task), task ? `${name} of ${task}` : name);
    await this.page.keyboard.press("Enter");
  }

  async toggle(label) {
    await this.focus((f) => f.kind === "checkbox" && f.name.startsWith(label), label);
    await this.page.keyboard.press("Space");
  }

  async select(label, value) {
    await this.focus((f) => f.kind === "select-one" && f.name === label, label);
    for (const key of ["ArrowDown", "ArrowUp"]) {
      for (let i = 0; i < 10; i++) {
        if ((await this.page.evaluate(() => document.activeElement.value)) === value) return;
        await this.page.keyboard.press(key);
      }
    }
    assert.fail(`keyboard: ${label} never shows ${value}`);
  }

  async createTask(t) {
    await this.fill("Title", t.title);
    await this.fill("Description", t.description || "");
    await this.select("Status", t.status || "pending");
    await this.select("Priority", t.priority || "medium");
    await this.fill("Due date", t.due || "");
    await this.press("Add task");
    await this.page.getByText(`Added “${t.title}”.`).waitFor();
  }
}
