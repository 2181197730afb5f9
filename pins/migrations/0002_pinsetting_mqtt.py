from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pins", "0001_pin_setting"),
    ]

    operations = [
        migrations.AddField(
            model_name="pinsetting",
            name="mqtt_controllable",
            field=models.BooleanField(
                default=False,
                help_text="Accept commands for this pin on endrpi/<node>/pins/<pin>/set (a Home Assistant switch while it is an OUTPUT). The broker's own authentication and ACLs decide who may send them.",
                verbose_name="controllable over MQTT",
            ),
        ),
        migrations.AddField(
            model_name="pinsetting",
            name="mqtt_exposed",
            field=models.BooleanField(
                default=False,
                help_text="Announce this pin to Home Assistant as a binary sensor while it is an INPUT.",
                verbose_name="exposed as a binary sensor",
            ),
        ),
    ]
