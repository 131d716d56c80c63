"""The UI's languages, declared once in settings.UI_LANGUAGES, and the EnOS locales they show."""

from django.conf import settings

from firmware.enos.types import I18nString


def enos_locale(language_code: str) -> str:
    """The EnOS locale id for a Django language code: `zh-hans` -> `zh_CN`, `pt-br` -> `pt_BR`."""
    code = language_code.lower().replace("_", "-")
    for ui_code, _name, locale in settings.UI_LANGUAGES:
        if code == ui_code:
            return locale
    language, _, region = code.partition("-")
    return f"{language}_{region.upper()}" if region else language


def locale_name(locale: str) -> str:
    """The name of an EnOS locale's language, in the active language (`ja_JP` -> "Japanese")."""
    for _code, name, ui_locale in settings.UI_LANGUAGES:
        if locale == ui_locale:
            return str(name)
    return locale


def name_in(text: I18nString, language_code: str) -> str | None:
    """An EnOS StringI18n as a viewer of that Django language reads it."""
    return text.for_locale(enos_locale(language_code))


def shown_name(text: I18nString, language_code: str) -> str | None:
    """A name as a viewer of that Django language sees it; failing that, any name is better than
    none."""
    fallback = next(iter(sorted(text.translations.values())), None)
    return name_in(text, language_code) or fallback
