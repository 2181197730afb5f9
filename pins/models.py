"""Per-pin settings an operator keeps in the admin: a label, a write lock, a saved configuration, and
whether MQTT (Home Assistant) may drive the pin or see it as a binary sensor.

The saved configuration is checked by the same rules (:mod:`pins.rules`) as REST and WebSocket
updates, so the admin refuses exactly what the API refuses (INPUT needs a pull, OUTPUT needs a
state, GPIO2/GPIO3 have fixed pull-ups).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from pins import naming, rules
from pins.configuration import PinChange


class PinSetting(models.Model):
    pin = models.PositiveSmallIntegerField(
        "pin",
        unique=True,
        choices=[(bcm, naming.pin_name(bcm)) for bcm in naming.USER_GPIOS],
        validators=[MinValueValidator(naming.USER_GPIOS[0]), MaxValueValidator(naming.USER_GPIOS[-1])],
        help_text="The header GPIO, by BCM number.",
    )
    label = models.CharField(
        max_length=64, blank=True, help_text='Shown by the dashboard and returned by the API, e.g. "Garage relay".'
    )
    locked = models.BooleanField(
        default=False,
        help_text="Refuse REST and WebSocket updates of this pin. A locked pin is also left alone at start-up.",
    )
    may_take_over = models.BooleanField(
        "may take over",
        default=False,
        help_text="Let updates claim this pin although its function is not plain GPIO (I2C, SPI, a UART, "
        "PCM) or a kernel driver holds it. The bus on it stops working while Endrpi has the pin; Endrpi gives "
        "the pin its function back when it releases it. Off: such updates are refused with 409.",
    )
    mqtt_controllable = models.BooleanField(
        "controllable over MQTT",
        default=False,
        help_text="Accept commands for this pin on endrpi/<node>/pins/<pin>/set (a Home Assistant switch while "
        "it is an OUTPUT). The broker's own authentication and ACLs decide who may send them.",
    )
    mqtt_exposed = models.BooleanField(
        "exposed as a binary sensor",
        default=False,
        help_text="Announce this pin to Home Assistant as a binary sensor while it is an INPUT.",
    )
    io = models.CharField(
        "saved io",
        max_length=6,
        choices=[(io, io) for io in rules.IO_CHOICES],
        blank=True,
        help_text="Configuration applied when the server starts; leave empty to leave the pin as it is.",
    )
    state = models.FloatField(
        "saved state",
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="For OUTPUT: 0 (low), 1 (high), or a PWM duty cycle in between.",
    )
    pull = models.CharField(
        "saved pull",
        max_length=8,
        choices=[(pull, pull) for pull in rules.PULL_CHOICES],
        blank=True,
        help_text="For INPUT: FLOATING, UP or DOWN.",
    )

    class Meta:
        ordering = ["pin"]
        verbose_name = "pin setting"

    def __str__(self) -> str:
        name = naming.pin_name(self.pin)
        return f"{name} ({self.label})" if self.label else name

    def saved_change(self) -> PinChange | None:
        """The saved configuration as the change an update would make, or ``None`` when none is saved.

        Raises ``ValidationError`` with the API's own wording when the saved values are not a valid update.
        """
        if not self.io:
            if self.state is not None or self.pull:
                raise ValidationError("Choose a saved io for the saved state or pull, or clear them")
            return None
        # Saved values edited outside the admin are checked here too: this runs at every start-up.
        if self.io not in rules.IO_CHOICES:
            raise ValidationError(f'io: "{self.io}" is not a valid choice.')
        if self.pull and self.pull not in rules.PULL_CHOICES:
            raise ValidationError(f'pull: "{self.pull}" is not a valid choice.')
        if self.state is not None and not 0.0 <= self.state <= 1.0:
            raise ValidationError("state: A number between 0 and 1 is required (0 = low, 1 = high).")
        try:
            change = rules.change_from(io=self.io, state=self.state, pull=self.pull or None)  # type: ignore[arg-type]
            rules.change_check(pin=self.pin, change=change, pwm_frequency=settings.ENDRPI_PWM_FREQUENCY)
        except rules.RuleBroken as error:
            raise ValidationError(error.message) from None
        return change

    def clean(self) -> None:
        super().clean()
        self.saved_change()
