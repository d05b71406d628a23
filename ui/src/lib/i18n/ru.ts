import type { Dictionary, RussianPlural } from "./types";

export const ru: Dictionary<RussianPlural> = {
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

  "library.title": "Библиотека",
  "library.subtitle": "Персонажи, с которыми можно общаться.",
  "library.empty.title": "Пока нет персонажей",
  "library.empty.hint":
    "Перетащите карточки персонажей (PNG, JSON, CHARX, YAML) в любое место этого окна, чтобы импортировать их.",
  "library.count": {
    one: "{count} персонаж в библиотеке",
    few: "{count} персонажа в библиотеке",
    many: "{count} персонажей в библиотеке",
    other: "{count} персонажа в библиотеке",
  },

  "chats.title": "Чаты",
  "chats.subtitle": "Ваши разговоры, сначала новые.",
  "chats.empty.title": "Пока нет чатов",
  "chats.empty.hint": "Выберите персонажа в библиотеке, чтобы начать разговор.",
  "chats.empty.action": "Открыть библиотеку",
  "chats.count": {
    one: "{count} чат",
    few: "{count} чата",
    many: "{count} чатов",
    other: "{count} чата",
  },

  "worldbooks.title": "Книги миров",
  "worldbooks.subtitle": "Знания о мире, которые персонажи вспоминают во время чата.",
  "worldbooks.empty.title": "Пока нет книг миров",
  "worldbooks.empty.hint":
    "Перетащите JSON-файл World Info из SillyTavern в любое место этого окна, чтобы импортировать его как книгу мира.",
  "worldbooks.count": {
    one: "{count} книга миров",
    few: "{count} книги миров",
    many: "{count} книг миров",
    other: "{count} книги миров",
  },

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

  "error.not_found": "Не найдено",
  "error.invalid_input": "В запросе есть неверные данные",
  "error.busy": "Confab занят, попробуйте чуть позже",
  "error.unauthorized": "Доступ запрещён",
  "error.rate_limited": "Слишком много запросов, подождите немного",
  "error.upstream": "Сервис ИИ вернул ошибку",
  "error.network": "Не удалось подключиться к сети",
  "error.timeout": "Запрос выполнялся слишком долго",
  "error.storage": "Не удалось прочитать или сохранить данные",
  "error.disk_full": "На диске не осталось места",
  "error.keyring_unavailable": "Системное хранилище паролей недоступно",
  "error.database_corrupt": "Файл библиотеки повреждён",
  "error.database_too_new": "Библиотека создана более новой версией Confab",
  "error.io": "Не удалось прочитать или записать файл",
  "error.internal": "Что-то пошло не так",
  "error.file": "Файл",
  "error.dismiss": "Закрыть",
  "error.region": "Ошибки",
  "error.context.loadSettings": "Не удалось загрузить сохранённые настройки.",
  "error.context.saveSettings": "Изменение настроек не сохранилось.",
  "error.context.appInfo": "Не удалось загрузить сведения о библиотеке.",

  "fatal.database_corrupt.title": "Файл библиотеки повреждён",
  "fatal.database_corrupt.body":
    "Confab не смог прочитать свою базу данных и остановился, не изменив файл.",
  "fatal.database_corrupt.advice":
    "Восстановите файл из резервной копии или переместите его в другое место, чтобы начать заново с пустой библиотекой. Затем нажмите «Повторить».",
  "fatal.database_too_new.title": "Библиотека создана более новой версией Confab",
  "fatal.database_too_new.body":
    "Эта версия Confab не может безопасно её открыть. Confab не изменял этот файл.",
  "fatal.database_too_new.advice":
    "Обновите Confab до последней версии и откройте его снова. Ваши персонажи и чаты по-прежнему в этом файле.",
  "fatal.path": "Файл базы данных",
  "fatal.details": "Подробности",
  "fatal.retry": "Повторить",
  "fatal.retrying": "Повторяем…",
};
