"""Word counts for text written without spaces (Chinese, Japanese): each
character is a word, so min_words and the "half the last version" guard
work on them as on English."""

from __future__ import annotations

from feedsvc.revisions import looks_truncated, word_count

JAPANESE = (
    "東京都は二十日、台風で損傷した港の橋を当面閉鎖すると発表した。"
    "橋のケーブルに亀裂が見つかり、専門家が安全性を調べている。"
    "再開の時期は未定で、市民は迂回路を使うよう求められている。"
)
CHINESE = "台风过后，港口大桥因缆索受损而关闭。专家正在检查大桥的安全，重新开放的时间尚未确定。"  # noqa: RUF001


def test_english_is_counted_by_spaces() -> None:
    assert word_count("The harbour bridge was closed on Tuesday.") == 7


def test_each_chinese_or_japanese_character_is_a_word_and_punctuation_is_not() -> None:
    assert word_count("東京。大阪、京都") == 6
    assert word_count(CHINESE) == len(CHINESE) - CHINESE.count("，") - CHINESE.count("。")  # noqa: RUF001


def test_mixed_scripts_count_latin_words_and_cjk_characters() -> None:
    assert word_count("iPhone 15を発売") == 5  # iPhone, 15, を, 発, 売


def test_korean_is_counted_by_its_spaces() -> None:
    assert word_count("서울시는 새 다리를 발표했다") == 4


def test_a_japanese_article_is_not_suspect_of_being_too_short() -> None:
    assert not looks_truncated(JAPANESE, None, min_words=20)
    assert looks_truncated(JAPANESE[:15], None, min_words=20)


def test_a_japanese_article_cut_to_a_third_is_suspect_against_its_last_version() -> None:
    assert looks_truncated(JAPANESE[: len(JAPANESE) // 3], JAPANESE, min_words=20)
    assert not looks_truncated(JAPANESE[:-5], JAPANESE, min_words=20)
