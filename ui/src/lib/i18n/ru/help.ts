// Русские тексты справки (ключи `help.`).

import type { AreaDictionary } from "../types";
import type { help as en } from "../en/help";

export const help: AreaDictionary<typeof en> = {
  "help.menu": "Справка",
  "help.title": "Справка",
  "help.subtitle": "Руководство и решение проблем входят в Confab и работают без интернета.",
  "help.doc.guide": "Руководство",
  "help.doc.troubleshooting": "Решение проблем",
  "help.contents": "Содержание",
  "help.settings.hint": "Как импортировать карточки, пользоваться книгами миров и заметками, настроить провайдеров и ключи, делать резервные копии.",
};
