import { describe, expect, test } from "vitest";
import { ERROR_CODES } from "../src/lib/api";
import { errorTitleKey } from "../src/lib/error-text";
import { en } from "../src/lib/i18n/en";
import { ru } from "../src/lib/i18n/ru";
import { resolveLanguage, translate, translatePlural } from "../src/lib/i18n/translate";

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "").sort();

function texts(value: string | Record<string, string>): string[] {
  return typeof value === "string" ? [value] : Object.values(value);
}

describe("dictionaries", () => {
  test("ru has exactly the keys of en, with the same kind of value", () => {
    expect(Object.keys(ru).sort()).toEqual(Object.keys(en).sort());
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(typeof ru[key], key).toBe(typeof en[key]);
      expect(ru[key], key).toBeTruthy();
    }
  });

  test("every English key is defined in one area file only", () => {
    // The areas are spread into one object: a key in two files would silently keep the last.
    const areas = import.meta.glob<Record<string, Record<string, unknown>>>("../src/lib/i18n/en/*.ts", { eager: true });
    const keys = Object.values(areas).flatMap((module) => Object.values(module).flatMap((area) => Object.keys(area)));
    expect(Object.keys(areas).length).toBeGreaterThan(1);
    expect(keys.length).toBe(new Set(keys).size);
    expect([...keys].sort()).toEqual(Object.keys(en).sort());
  });

  test("translations use the same placeholders", () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      const expected = placeholders(texts(en[key])[0] ?? "");
      for (const text of [...texts(en[key]), ...texts(ru[key])]) {
        expect(placeholders(text), `${key}: ${text}`).toEqual(expected);
      }
    }
  });

  test("every error code has a title in both languages", () => {
    for (const code of ERROR_CODES) {
      expect(translate("en", errorTitleKey(code))).not.toBe("");
      expect(translate("ru", errorTitleKey(code))).not.toBe(translate("en", errorTitleKey(code)));
    }
    expect(translate("en", errorTitleKey("database_corrupt"))).toBe("Your library file is damaged");
    expect(translate("en", errorTitleKey("no_card_data"))).toBe("No character card in this image");
  });

  test("Russian strings are Russian", () => {
    expect(translate("ru", "library.empty.title")).toBe("Пока нет персонажей");
    expect(translate("ru", "nav.settings")).toMatch(/^[А-Яа-яЁё ]+$/);
  });
});

describe("plurals", () => {
  test("Russian picks one/few/many by Intl.PluralRules", () => {
    const ruCount = (n: number): string => translatePlural("ru", "library.count", n);
    expect(ruCount(1)).toBe("1 персонаж в библиотеке");
    expect(ruCount(2)).toBe("2 персонажа в библиотеке");
    expect(ruCount(4)).toBe("4 персонажа в библиотеке");
    expect(ruCount(5)).toBe("5 персонажей в библиотеке");
    expect(ruCount(11)).toBe("11 персонажей в библиотеке");
    expect(ruCount(21)).toBe("21 персонаж в библиотеке");
    expect(ruCount(22)).toBe("22 персонажа в библиотеке");
    expect(ruCount(25)).toBe("25 персонажей в библиотеке");
    expect(translatePlural("ru", "chats.count", 3)).toBe("3 чата");
    expect(translatePlural("ru", "library.total", 1)).toBe("1 персонаж");
    expect(translatePlural("ru", "library.total", 3)).toBe("3 персонажа");
    expect(translatePlural("ru", "library.total", 12)).toBe("12 персонажей");
    expect(translatePlural("ru", "detail.book", 5)).toBe("Встроенная книга мира: 5 записей");
    expect(translatePlural("ru", "worldbooks.count", 5)).toBe("5 книг миров");
  });

  test("English has one and other, and formats large numbers", () => {
    expect(translatePlural("en", "library.count", 1)).toBe("1 character in your library");
    expect(translatePlural("en", "library.count", 3)).toBe("3 characters in your library");
    expect(translatePlural("en", "chats.count", 1200)).toBe("1,200 chats");
  });
});

describe("resolveLanguage", () => {
  test("a saved choice wins", () => {
    expect(resolveLanguage("en", "ru-RU")).toBe("en");
    expect(resolveLanguage("ru", "en-US")).toBe("ru");
  });

  test("null follows the system: any ru locale is Russian, the rest English", () => {
    expect(resolveLanguage(null, "ru")).toBe("ru");
    expect(resolveLanguage(null, "ru-UA")).toBe("ru");
    expect(resolveLanguage(null, "de-DE")).toBe("en");
    expect(resolveLanguage(null, undefined)).toBe("en");
  });
});
