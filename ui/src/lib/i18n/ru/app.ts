// Russian messages of the window itself: the app's name, navigation, loading
// states, shared buttons, confirmations, file sizes, and the Settings
// screen's own settings; exactly the keys of ../en/app.

import type { app as english } from "../en/app";
import type { AreaDictionary, RussianPlural } from "../types";

export const app: AreaDictionary<typeof english, RussianPlural> = {
  "app.name": "Confab",
  "app.tagline": "Персонажи, чаты, миры",

  "nav.label": "Разделы",
  "nav.library": "Библиотека",
  "nav.chats": "Чаты",
  "nav.worldbooks": "Книги миров",
  "nav.settings": "Настройки",

  "status.loading": "Загрузка…",
  "status.unavailable": "Не удалось загрузить данные.",
  "status.retry": "Попробовать снова",

  "size.bytes": "{n} Б",
  "size.kb": "{n} КБ",
  "size.mb": "{n} МБ",

  "confirm.cancel": "Отмена",
  "confirm.discard.title": "Отменить несохранённые изменения?",
  "confirm.discard.body": "Правки персонажа {name} будут потеряны.",
  "confirm.discard.ok": "Отменить правки",
  "confirm.discard.cancel": "Продолжить",
  "confirm.delete.title": "Удалить персонажа {name}?",
  "confirm.delete.body": "Персонаж {name} и все чаты с ним будут удалены. Это нельзя отменить.",
  "confirm.delete.ok": "Удалить",
  "confirm.deleteBook.title": "Удалить «{name}»?",
  "confirm.deleteBook.body": {
    one: "Книга «{name}» и её {count} запись будут удалены, а персонажи, которые её используют, её лишатся. Это нельзя отменить.",
    few: "Книга «{name}» и её {count} записи будут удалены, а персонажи, которые её используют, её лишатся. Это нельзя отменить.",
    many: "Книга «{name}» и её {count} записей будут удалены, а персонажи, которые её используют, её лишатся. Это нельзя отменить.",
    other: "Книга «{name}» и её {count} записи будут удалены, а персонажи, которые её используют, её лишатся. Это нельзя отменить.",
  },
  "confirm.deleteEntries.title": {
    one: "Удалить {count} запись?",
    few: "Удалить {count} записи?",
    many: "Удалить {count} записей?",
    other: "Удалить {count} записи?",
  },
  "confirm.deleteEntries.body": "Они сразу исчезнут из этой книги мира. Это нельзя отменить.",

  "settings.title": "Настройки",
  "settings.subtitle": "Изменения применяются сразу и сохраняются автоматически.",
  "settings.appearance": "Внешний вид",
  "settings.language.label": "Язык",
  "settings.language.hint": "Язык меню и сообщений. «Как в системе» — язык вашего компьютера.",
  "settings.language.system": "Как в системе",
  "settings.language.en": "English",
  "settings.language.ru": "Русский",
  "settings.theme.label": "Тема",
  "settings.theme.hint": "«Как в системе» — светлая или тёмная вслед за настройкой компьютера.",
  "settings.theme.system": "Как в системе",
  "settings.theme.light": "Светлая",
  "settings.theme.dark": "Тёмная",
  "settings.about": "О программе",
  "settings.about.version": "Версия",
  "settings.about.dataDir": "Папка данных",
  "settings.about.database": "База данных",
  "settings.about.schema": "Версия схемы",
  "settings.dictionary": "Общий словарь чатов",
  "settings.providers": "Провайдеры",
  "settings.usage": "Расход",

  "common.cancel": "Отмена",
  "common.close": "Закрыть",
  "common.save": "Сохранить",

  "settings.examples": "Примеры диалога",
  "settings.stablePrompt": "Кэш промпта",

  "settings.context": "Основной контекст",
};
