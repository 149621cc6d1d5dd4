"""Dagster resources: configuration enters here (environment -> settings) and is passed down."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import dagster as dg

from error_assets.settings import DEFAULT_INDEX, DEFAULT_MODEL, Settings
from error_assets.sources.raw_store import RawStore


class HomeResource(dg.ConfigurableResource):
    """Local state: archive, raw blobs, the embedded store, pipeline records."""

    home: str
    archive: str

    def base_settings(self) -> Settings:
        return Settings(home=Path(self.home), archive=Path(self.archive))

    @property
    def records_dir(self) -> Path:
        return Path(self.home) / "records"

    def raw_store(self) -> RawStore:
        return RawStore(Path(self.home) / "raw")


class CISourceResource(dg.ConfigurableResource):
    """GitHub Actions when a token and repos are configured, else the local archive."""

    home: HomeResource
    github_token: str | None = None
    repos: str = ""
    github_api_url: str | None = None

    def settings(self) -> Settings:
        repos = tuple(r.strip() for r in self.repos.split(",") if r.strip())
        return replace(
            self.home.base_settings(),
            github_token=self.github_token,
            repos=repos,
            github_base_url=self.github_api_url,
        )

    def open(self):  # -> CISource
        from error_assets.sources import open_source

        return open_source(self.settings(), self.home.raw_store())


class StoreResource(dg.ConfigurableResource):
    """OpenSearch when a URL is configured, else the local embedded store."""

    home: HomeResource
    opensearch_url: str | None = None
    opensearch_username: str | None = None
    opensearch_password: str | None = None
    opensearch_verify_certs: bool = True
    opensearch_ca_certs: str | None = None
    index: str = DEFAULT_INDEX

    def settings(self) -> Settings:
        return replace(
            self.home.base_settings(),
            opensearch_url=self.opensearch_url,
            opensearch_username=self.opensearch_username,
            opensearch_password=self.opensearch_password,
            opensearch_verify_certs=self.opensearch_verify_certs,
            opensearch_ca_certs=self.opensearch_ca_certs,
            index=self.index,
        )

    @property
    def kind(self) -> str:
        return "opensearch" if self.opensearch_url else "local"

    def open(self):  # -> ErrorStore
        from error_assets.stores import open_store

        store = open_store(self.settings())
        store.ensure_ready()
        return store


class ClassifierResource(dg.ConfigurableResource):
    """Rules and the offline model always; Claude when an API key is configured."""

    home: HomeResource
    anthropic_api_key: str | None = None
    model: str = DEFAULT_MODEL
    anthropic_base_url: str | None = None
    batch_size: int = 10
    max_error_length: int = 10_000
    max_cost_usd_per_run: float = 1.0

    def settings(self) -> Settings:
        return replace(
            self.home.base_settings(),
            anthropic_api_key=self.anthropic_api_key,
            anthropic_model=self.model,
            anthropic_base_url=self.anthropic_base_url,
            batch_size=self.batch_size,
            max_error_length=self.max_error_length,
            max_cost_usd_per_run=self.max_cost_usd_per_run,
        )

    @property
    def llm_enabled(self) -> bool:
        return bool(self.anthropic_api_key)


def build_resources(settings: Settings) -> dict[str, object]:
    """Resources for `settings`; secrets are passed as `EnvVar`s so the UI never shows them."""
    home = HomeResource(home=str(settings.home), archive=str(settings.archive))
    return {
        "home": home,
        "ci_source": CISourceResource(
            home=home,
            github_token=dg.EnvVar("GITHUB_TOKEN") if settings.github_token else None,
            repos=",".join(settings.repos),
            github_api_url=settings.github_base_url,
        ),
        "store": StoreResource(
            home=home,
            opensearch_url=settings.opensearch_url,
            opensearch_username=settings.opensearch_username,
            opensearch_password=(
                dg.EnvVar("OPENSEARCH_PASSWORD") if settings.opensearch_password else None
            ),
            opensearch_verify_certs=settings.opensearch_verify_certs,
            opensearch_ca_certs=settings.opensearch_ca_certs,
            index=settings.index,
        ),
        "classifier": ClassifierResource(
            home=home,
            anthropic_api_key=dg.EnvVar("ANTHROPIC_API_KEY")
            if settings.anthropic_api_key
            else None,
            model=settings.anthropic_model,
            anthropic_base_url=settings.anthropic_base_url,
            batch_size=settings.batch_size,
            max_error_length=settings.max_error_length,
            max_cost_usd_per_run=settings.max_cost_usd_per_run,
        ),
        "records_io_manager": RecordsIOManager(home=home),
    }


class RecordsIOManager(dg.ConfigurableIOManager):
    """Persists record DataFrames one Parquet file per partition, so a ranged run writes (and
    a rerun replaces) exactly its partitions, and a downstream range reads them back."""

    home: HomeResource

    def _path(self, asset_key: dg.AssetKey, partition: str | None) -> Path:
        base = self.home.records_dir.joinpath(*asset_key.path)
        return base / f"{partition}.parquet" if partition else base.with_suffix(".parquet")

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        import pandas as pd

        if obj is None:
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"{context.asset_key.to_user_string()} must return a DataFrame")
        keys = context.asset_partition_keys if context.has_asset_partitions else [None]
        for key in keys:
            part = obj if key is None else obj[obj["partition"] == key]
            path = self._path(context.asset_key, key)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            part.reset_index(drop=True).to_parquet(tmp, index=False)
            tmp.replace(path)

    def load_input(self, context: dg.InputContext):
        import pandas as pd

        keys = context.asset_partition_keys if context.has_asset_partitions else [None]
        frames = []
        for key in keys:
            path = self._path(context.asset_key, key)
            if not path.exists():
                raise FileNotFoundError(
                    f"{context.asset_key.to_user_string()} has no records for partition {key}: "
                    f"materialise it first ({path} is missing)"
                )
            frames.append(pd.read_parquet(path))
        non_empty = [f for f in frames if len(f)]
        if not non_empty:
            return frames[0] if frames else pd.DataFrame()
        return pd.concat(non_empty, ignore_index=True)
