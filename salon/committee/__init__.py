"""The committee room (SPEC §4, §3.3): the topic-selection committee, its elections and its members' picks."""
