"""Forms: WTForms' own messages follow the page's language, with each catalogue read once per process."""

from flask_babel import refresh

from participate import forms


def test_wtforms_messages_follow_the_page_language_and_each_catalogue_is_read_once(app):
    forms.wtforms_translations.cache_clear()
    said = {}
    for lang in ("cy", "en", "cy"):
        with app.test_request_context(f"/?lang={lang}"):
            refresh()  # the language of this request, not one the test's app context remembers
            form = forms.VoteForm(formdata=None)
            said[lang] = form.meta.get_translations(form).gettext("This field is required.")
    assert said == {"cy": "Rhaid cwblhau'r maes hwn.", "en": "This field is required."}
    assert forms.wtforms_translations.cache_info().misses == 2  # one read per language, not one per form
