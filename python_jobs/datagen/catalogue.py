"""Product catalogue of the synthetic gift-ware wholesaler.

Every product has a stock code (a five-digit number, some with a letter
suffix for colour variants), an upper-case description and a stable base
price. A handful of descriptions contain commas or a double quote (an inch
mark or a quoted letter), so the CSV writer has to quote them. Non-product
stock codes (postage, carriage, manual adjustments, bank charges, discounts)
are appended after the products so that one integer code indexes both.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

__all__ = [
    "NON_PRODUCT_CODES",
    "Catalogue",
    "build_catalogue",
    "csv_field",
]

#: Non-product stock codes and their descriptions, in code order.
NON_PRODUCT_CODES: tuple[tuple[str, str], ...] = (
    ("POST", "POSTAGE"),
    ("C2", "CARRIAGE"),
    ("DOT", "DOTCOM POSTAGE"),
    ("M", "Manual"),
    ("BANK CHARGES", "Bank Charges"),
    ("D", "Discount"),
)

# Typical shelf prices in pence; base prices snap to the nearest one.
_PRICE_POINTS = np.array(
    [
        19, 21, 25, 29, 35, 39, 42, 55, 65, 72, 79, 83, 85, 95, 125, 145, 165,
        185, 195, 210, 250, 255, 295, 325, 375, 425, 495, 595, 675, 795, 850,
        995, 1275, 1495, 1695, 1995, 2495, 2995, 3995, 4995,
    ],
    dtype=np.int64,
)  # fmt: skip

# Price class -> (number of products, median price in pence, item nouns).
_ITEMS: dict[str, tuple[int, int, tuple[str, ...]]] = {
    "small": (
        150,
        55,
        (
            "GIFT TAG SET", "GREETING CARD", "WRAPPING SHEET", "PAPER NAPKINS",
            "STICKER SHEET", "PENCIL SET", "TEA LIGHTS", "KEY RING",
            "HAND WARMER", "BALLOON PACK", "CAKE CASES", "PARTY CUPS",
            "ERASER", "POCKET MIRROR", "HAIR CLIPS", "BOOKMARK", "MAGNET",
            "GIFT BAG", "LUGGAGE TAG", "CHALK STICKS",
        ),
    ),
    "mid": (
        170,
        195,
        (
            "TEA LIGHT HOLDER", "SHOPPER BAG", "CERAMIC MUG", "LUNCH BOX",
            "WATER BOTTLE", "STORAGE TIN", "CUSHION COVER", "BUNTING",
            "HOT WATER BOTTLE", "TEA TOWEL", "APRON", "PLANT POT",
            "COASTER SET", "NOTEBOOK", "CHOPPING BOARD", "OVEN GLOVE",
            "DOOR STOP", "EGG CUP SET", "PEG BAG", "JAM JAR",
        ),
    ),
    "large": (
        110,
        495,
        (
            "CAKE STAND", "PHOTO FRAME", "WALL CLOCK", "DOORMAT", "LANTERN",
            "BAKING SET", "MIRROR", "PICNIC BASKET", "BREAD BIN", "SEWING BOX",
            "COAT RACK", "TRINKET CHEST", "PARASOL", "WALL SHELF",
            "LAUNDRY BASKET",
        ),
    ),
    "premium": (
        30,
        1695,
        (
            "SIDE TABLE", "DRAWER CABINET", "GARDEN BENCH", "STANDING LAMP",
            "DRESSER", "STEAMER TRUNK", "ROCKING HORSE", "DELUXE BIRD HOUSE",
        ),
    ),
}  # fmt: skip

_MODIFIERS: tuple[str, ...] = (
    "RED", "PINK", "BLUE", "IVORY", "GREEN", "LILAC", "VINTAGE", "RETRO",
    "FLORAL", "STRIPED", "SPOTTY", "HEART", "STAR", "GINGHAM", "PAISLEY",
    "ROSE", "BIRD", "OWL", "FAIRY", "SCANDI", "CHRISTMAS", "ENAMEL", "GLASS",
    "WOODEN", "ZINC", "POLKA DOT", "LACE", "CHERRY", "MOROCCAN", "ANTIQUE",
    "SPACEBOY", "DINOSAUR", "BUTTERFLY", "SKULL", "DAISY", "LEMON",
)  # fmt: skip

_LETTERS = "ABCDEGHJKLMNPRST"


@dataclass(frozen=True)
class Catalogue:
    """Products followed by the non-product codes.

    Attributes
    ----------
    stock_codes : tuple of str
        Stock code of every code index (products first).
    descriptions : tuple of str
        Description of every code index.
    n_products : int
        Number of real products; indices ``>= n_products`` are the
        :data:`NON_PRODUCT_CODES` in order.
    base_cents : numpy.ndarray
        Base price in pence of each product.
    tier_cents : numpy.ndarray
        Price in pence for quantities of 100 or more.
    popularity : numpy.ndarray
        Probability of each product being picked by a shopper.
    """

    stock_codes: tuple[str, ...]
    descriptions: tuple[str, ...]
    n_products: int
    base_cents: np.ndarray
    tier_cents: np.ndarray
    popularity: np.ndarray

    def code_index(self, stock_code: str) -> int:
        """Return the code index of a non-product stock code.

        Parameters
        ----------
        stock_code : str
            One of the codes in :data:`NON_PRODUCT_CODES`.

        Returns
        -------
        int
            Its index into :attr:`stock_codes`.
        """
        codes = [code for code, _ in NON_PRODUCT_CODES]
        return self.n_products + codes.index(stock_code)

    def pool(self, kind: str) -> np.ndarray:
        """Return the product indices a kind of shopper chooses from.

        Parameters
        ----------
        kind : {"all", "cheap", "gift"}
            ``cheap`` are products up to 1.25, ``gift`` those from 2.50 to
            20.00, ``all`` every product.

        Returns
        -------
        numpy.ndarray
            Sorted product indices.
        """
        if kind == "all":
            return np.arange(self.n_products)
        if kind == "cheap":
            return np.flatnonzero(self.base_cents <= 125)
        if kind == "gift":
            return np.flatnonzero((self.base_cents >= 250) & (self.base_cents <= 2000))
        raise ValueError(f"unknown product pool {kind!r}")


def csv_field(value: str) -> str:
    """Render one CSV field with the standard (minimal) quoting rules.

    Parameters
    ----------
    value : str
        Raw field value.

    Returns
    -------
    str
        The value, quoted with doubled inner quotes when it contains a comma,
        a double quote or a line break; unchanged otherwise.
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([value])
    return buffer.getvalue()


def _snap_price(cents: np.ndarray) -> np.ndarray:
    """Snap prices to the nearest price point (on a log scale)."""
    log_points = np.log(_PRICE_POINTS)
    mids = (log_points[1:] + log_points[:-1]) / 2
    return _PRICE_POINTS[np.searchsorted(mids, np.log(cents))]


def _describe(rng: np.random.Generator, item: str) -> str:
    """Draw one description for an item noun."""
    mod = _MODIFIERS[rng.integers(len(_MODIFIERS))]
    mod2 = _MODIFIERS[rng.integers(len(_MODIFIERS))]
    style = rng.random()
    if style < 0.02:
        text = f"{item} , {mod}"
    elif style < 0.04:
        text = f"{mod} {item},{mod2}"
    elif style < 0.3 and item == "PHOTO FRAME":
        text = f'{mod} PHOTO FRAME {rng.integers(4, 11)}" SQUARE'
    elif style < 0.3 and item == "KEY RING":
        text = f'LETTER "{_LETTERS[rng.integers(len(_LETTERS))]}" {mod} KEY RING'
    elif style < 0.35:
        text = f"{mod} {mod2} {item}" if mod != mod2 else f"{mod} {item}"
    else:
        text = f"{mod} {item}"
    if rng.random() < 0.08:
        text += " "
    return text


def build_catalogue(rng: np.random.Generator) -> Catalogue:
    """Draw the product catalogue.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness; the catalogue is a pure function of its state.

    Returns
    -------
    Catalogue
        About 460 products plus the non-product codes.
    """
    codes: list[str] = []
    descriptions: list[str] = []
    prices: list[int] = []
    seen: set[str] = set()
    base_numbers = iter(rng.permutation(np.arange(20000, 90000))[:2000].tolist())
    for n_items, median, items in _ITEMS.values():
        made = 0
        while made < n_items:
            item = items[rng.integers(len(items))]
            price = int(_snap_price(np.array([median * rng.lognormal(0.0, 0.35)]))[0])
            base = str(next(base_numbers))
            variants = 1 if rng.random() >= 0.1 else int(rng.integers(2, 4))
            for variant in range(min(variants, n_items - made)):
                text = _describe(rng, item)
                while text.strip() in seen:
                    text = _describe(rng, item)
                seen.add(text.strip())
                codes.append(base if variants == 1 else base + "ABC"[variant])
                descriptions.append(text)
                prices.append(price)
                made += 1
    # Every catalogue holds at least one inch mark and one quoted letter.
    for i, item_text in enumerate(descriptions):
        if "PHOTO FRAME" in item_text and '"' not in item_text:
            descriptions[i] = item_text.replace("PHOTO FRAME", 'PHOTO FRAME 6"', 1)
            break
    for i, item_text in enumerate(descriptions):
        if "KEY RING" in item_text and '"' not in item_text:
            descriptions[i] = 'LETTER "A" ' + item_text
            break
    base_cents = np.array(prices, dtype=np.int64)
    tier = _snap_price(base_cents * 0.85)
    tier = np.where(tier < base_cents, tier, np.maximum(base_cents - 2, 1))
    ranks = rng.permutation(len(codes))
    weights = 1.0 / (ranks + 3.0) ** 0.9
    return Catalogue(
        stock_codes=tuple(codes) + tuple(code for code, _ in NON_PRODUCT_CODES),
        descriptions=tuple(descriptions) + tuple(d for _, d in NON_PRODUCT_CODES),
        n_products=len(codes),
        base_cents=base_cents,
        tier_cents=tier.astype(np.int64),
        popularity=weights / weights.sum(),
    )
