"""People's names both generators draw from (the vehicle generator adds more of its own)."""

SURNAMES = (
    "Johnson", "Fowler", "Kelley", "Gibson", "Delgado", "Austin", "Kelly", "Smith", "Carroll",
    "Burch", "James", "Crane", "Rodriguez", "Charles", "Stewart", "Abbott", "Dean", "Stanley",
    "Riley", "Holt", "Chang", "Bryan", "Lee", "Garcia", "Martinez", "Brown", "Davis", "Miller",
    "Wilson", "Moore", "Taylor", "Anderson", "Thomas", "Jackson", "White", "Harris", "Martin",
    "Thompson", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans",
    "Turner", "Torres", "Parker", "Collins", "Edwards", "Morris",
)  # fmt: skip
FIRST_NAMES = (
    "Keith", "Erica", "Lisa", "Mark", "Sarah", "James", "Anna", "David", "Laura", "Brian",
    "Megan", "Kevin", "Amy", "Jason", "Emily", "Ryan", "Nicole", "Eric", "Rachel", "Adam",
)  # fmt: skip
