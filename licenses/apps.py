from django.apps import AppConfig


class LicensesConfig(AppConfig):
    name = "licenses"
    verbose_name = "Licences and compliance"

    def ready(self) -> None:
        from licenses import receivers  # noqa: F401 - connects the signal receivers
