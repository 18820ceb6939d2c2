"""A card goes out as it was built: the SDK's copy of each outgoing activity shares the card, which serializes as any
dict would."""

from __future__ import annotations

import copy

from cards.common import adaptive_card, card_activity, text_block


def test_the_sdks_copy_of_a_card_activity_shares_the_card_and_sends_the_same_json() -> None:
    activity = card_activity(adaptive_card([text_block("Adele Vance")]), "Adele Vance")

    copied = copy.deepcopy(activity)

    assert copied is not activity and copied.attachments[0].content is activity.attachments[0].content
    sent = copied.model_dump(mode="json", by_alias=True, exclude_unset=True)["attachments"][0]["content"]
    assert sent == {**adaptive_card([text_block("Adele Vance")]), "fallbackText": "Adele Vance"}
    assert type(sent) is dict
