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
  "shortcuts.title": "Клавиши",
  "shortcuts.hint": "Клавиши работают везде, кроме полей ввода; Esc и ↑ — и в пустом поле сообщения.",
  "shortcuts.close": "Закрыть",
  "shortcuts.search": "Поиск персонажей, чатов, книг мира и сообщений",
  "shortcuts.newChat": "Новый чат (с персонажем открытого чата или на выбор)",
  "shortcuts.stop": "Остановить ответ",
  "shortcuts.swipePrev": "Предыдущий вариант последнего ответа",
  "shortcuts.swipeNext": "Следующий вариант последнего ответа",
  "shortcuts.editLast": "Изменить своё последнее сообщение (в пустом поле)",
  "shortcuts.help": "Показать эти клавиши",
  "switcher.title": "Поиск",
  "switcher.newChatTitle": "Новый чат с…",
  "switcher.placeholder": "Имя или слова из сообщения",
  "switcher.character": "Персонаж",
  "switcher.chat": "Чат",
  "switcher.book": "Книга мира",
  "switcher.message": "Сообщение",
  "switcher.none": "Ничего не найдено",
};
