// Русские тексты первого запуска (ключи `firstRun.`).

import type { AreaDictionary } from "../types";
import type { onboarding as en } from "../en/onboarding";

export const onboarding: AreaDictionary<typeof en> = {
  "firstRun.title": "Добро пожаловать в Confab",
  "firstRun.lead": "Три коротких шага до первого чата. Любой можно пропустить: всё это остаётся в настройках.",
  "firstRun.skipAll": "Пропустить настройку",
  "firstRun.progress": "Шаги настройки",
  "firstRun.step.language": "Язык",
  "firstRun.step.replies": "Ответы",
  "firstRun.step.characters": "Персонажи",
  "firstRun.count": "Шаг {n} из {total}",
  "firstRun.back": "Назад",
  "firstRun.next": "Далее",
  "firstRun.skipStep": "Пока пропустить",
  "firstRun.finish": "Готово",

  "firstRun.language.title": "Выберите язык",
  "firstRun.language.hint": "Меню, кнопки и сообщения. Персонажи говорят на языке своих карточек и вашей модели.",
  "firstRun.language.later": "Язык можно сменить в любой момент: Настройки → Оформление.",

  "firstRun.replies.title": "Откуда берутся ответы?",
  "firstRun.replies.hint": "Персонажи отвечают через модель: онлайн-провайдера с API-ключом (OpenRouter, OpenAI, Anthropic) или сервер модели на этом компьютере — ему не нужен ключ, и всё остаётся офлайн.",
  "firstRun.replies.ready": "Готово: персонажи могут отвечать.",
  "firstRun.replies.later": "Провайдера пока нет? Ничего страшного: карточки и приветствия можно читать уже сейчас, а провайдера добавить позже в Настройках → Провайдеры.",

  "firstRun.local.title": "На этом компьютере не ответил ни один сервер моделей",
  "firstRun.local.lead": "Confab проверяет обычные порты. Чтобы общаться без онлайн-провайдера, установите один из этих серверов, загрузите модель, запустите сервер и поищите снова:",
  "firstRun.local.ollama": "Установите с ollama.com и выполните «ollama pull llama3.2». Сервер работает в фоне.",
  "firstRun.local.lmStudio": "Скачайте модель, затем на вкладке Developer нажмите «Start Server».",
  "firstRun.local.kobold": "Откройте модель .gguf в KoboldCpp и нажмите Launch.",
  "firstRun.local.llamaCpp": "Выполните «llama-server -m model.gguf --port 8080».",
  "firstRun.local.online": "Или добавьте выше онлайн-провайдера с его API-ключом, или пропустите этот шаг.",
  "firstRun.local.again": "Поискать снова",

  "firstRun.characters.title": "Знакомство с персонажем",
  "firstRun.characters.hint": "Начните с демо-персонажа, который входит в Confab, или импортируйте свои карточки.",
  "firstRun.demo.title": "Мира Велл, демо-персонаж",
  "firstRun.demo.body": "Ночная хранительница библиотеки фонарей. В её карточке есть всё, чтобы попробовать сразу: альтернативные приветствия, примеры диалога, книга мира, заметка персонажа и словарь чата.",
  "firstRun.demo.noProvider": "Чтобы она отвечала, нужен провайдер; приветствие видно в любом случае.",
  "firstRun.demo.avatarAlt": "Мира Велл с фонарём в ночи",
  "firstRun.demo.start": "Поговорить с Мирой",
  "firstRun.demo.busy": "Открываем…",
  "firstRun.import.title": "Импорт карточек",
  "firstRun.import.body": "Карточки PNG, JSON, CHARX или YAML из SillyTavern, RisuAI, Chub и других. Файлы можно в любой момент просто перетащить в окно.",
  "firstRun.import.start": "Импортировать…",

  "firstRun.settings.title": "Начало работы",
  "firstRun.settings.label": "Мастер настройки",
  "firstRun.settings.hint": "Язык, провайдер или локальный сервер модели и демо-персонаж — шаг за шагом.",
  "firstRun.settings.open": "Открыть мастер настройки",
};
