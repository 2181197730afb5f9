"""Per-pin settings an operator keeps in the admin: a label, a write lock, a saved configuration.

The saved configuration is checked by the same serializer that checks REST and WebSocket updates,
so the admin refuses exactly what the API refuses (INPUT needs a pull, OUTPUT needs a state).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from endrpi_project.api.errors import validation_message
from pins import parsers
from pins.configuration import PinChange
from pins.serializers import PinConfigurationSerializer


class PinSetting(models.Model):
    pin = models.PositiveSmallIntegerField(
        "pin",
        unique=True,
        choices=[(bcm, parsers.pin_name(bcm)) for bcm in parsers.USER_GPIOS],
        validators=[MinValueValidator(parsers.USER_GPIOS[0]), MaxValueValidator(parsers.USER_GPIOS[-1])],
        help_text="The header GPIO, by BCM number.",
    )
    label = models.CharField(
        max_length=64, blank=True, help_text='Shown by the dashboard and returned by the API, e.g. "Garage relay".'
    )
    locked = models.BooleanField(
        default=False,
        help_text="Refuse REST and WebSocket updates of this pin. A locked pin is also left alone at start-up.",
    )
    io = models.CharField(
        "saved io",
        max_length=6,
        choices=[("INPUT", "INPUT"), ("OUTPUT", "OUTPUT")],
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
        choices=[("FLOATING", "FLOATING"), ("UP", "UP"), ("DOWN", "DOWN")],
        blank=True,
        help_text="For INPUT: FLOATING, UP or DOWN.",
    )

    class Meta:
        ordering = ["pin"]
        verbose_name = "pin setting"

    def __str__(self) -> str:
        name = parsers.pin_name(self.pin)
        return f"{name} ({self.label})" if self.label else name

    def saved_change(self) -> PinChange | None:
        """The saved configuration as the change an update would make, or ``None`` when none is saved.

        Raises ``ValidationError`` with the API's own wording when the saved values are not a valid update.
        """
        if not self.io:
            if self.state is not None or self.pull:
                raise ValidationError("Choose a saved io for the saved state or pull, or clear them")
            return None
        values = {"io": self.io, "state": self.state, "pull": self.pull or None}
        serializer = PinConfigurationSerializer(data={key: value for key, value in values.items() if value is not None})
        if not serializer.is_valid():
            raise ValidationError(validation_message(serializer.errors))
        change: PinChange = serializer.validated_data
        return change

    def clean(self) -> None:
        super().clean()
        self.saved_change()
