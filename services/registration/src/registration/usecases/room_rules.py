"""Each endpoint's room rules (nội quy phòng họp, rule 6: every endpoint posts its room
rules): a document attached to the endpoint, stored like a meeting's materials and under
the same file rules (`materials.types`, `materials.max_bytes`). The IT department or the
endpoint's own technician attaches a new version; everyone reads the current one."""

from __future__ import annotations

from collections.abc import Callable

from hnth_contracts.policy import Policy
from hnth_kit.auth import Principal, Role
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from hnth_kit.refusal import Refusal
from registration.store import MaterialsStore, RegistrationStore, describe
from registration.usecases.materials import Upload, checked_type


class RoomRules:
    def __init__(
        self,
        store: RegistrationStore,
        files: MaterialsStore,
        policy_for: Callable[[str], Policy],
        clock: Clock,
    ) -> None:
        self.store, self.files, self.policy_for, self.clock = store, files, policy_for, clock

    async def attach(self, who: Principal, code: str, file: Upload) -> Document:
        """The next version of the endpoint's room rules (the older ones are kept); its id
        names the version, so two attached at once cannot both take it (409)."""
        await self._endpoint(who, code)
        if not (who.role is Role.OPERATOR or (who.role is Role.TECHNICIAN and who.serves(code))):
            raise Refusal(
                403,
                "forbidden",
                "Chỉ Sở KH&CN hoặc cán bộ kỹ thuật của điểm cầu được đính kèm nội quy.",
                "Only the IT department or the endpoint's technician may attach room rules.",
            )
        content_type = checked_type(file, self.policy_for(who.tenant))
        before = await self.files.latest(who.tenant, code)
        version = (before["version"] if before else 0) + 1
        document = {
            "_id": f"rules:{who.tenant}:{code}:{version}",
            "tenant": who.tenant,
            "endpoint": code,
            "version": version,
            "filename": (file.filename or "noi-quy")[:255],
            "content_type": content_type,
            "uploaded_by": who.subject,
            "uploaded_at": self.clock.now(),
            **describe(file.data),
        }
        stored, created = await self.files.save(document, file.data)
        if not created:  # another version was attached meanwhile: it keeps its number
            raise Refusal(
                409,
                "concurrent_change",
                "Nội quy vừa được đính kèm phiên bản khác; hãy tải lại rồi thử lại.",
                "Other room rules were attached meanwhile; reload and try again.",
            )
        return stored

    async def current(self, who: Principal, code: str) -> Document:
        """The endpoint's room rules as last attached (404 when none yet)."""
        await self._endpoint(who, code)
        found = await self.files.latest(who.tenant, code)
        if found is None:
            raise Refusal.not_found(
                f"nội quy phòng họp của điểm cầu {code}", f"room rules for endpoint {code}"
            )
        return found

    async def download(self, who: Principal, code: str) -> tuple[Document, bytes]:
        found = await self.current(who, code)
        return found, await self.files.content(found)

    async def _endpoint(self, who: Principal, code: str) -> None:
        if await self.store.endpoints.get(who.tenant, code) is None:
            raise Refusal.not_found(f"điểm cầu {code}", f"endpoint {code}")
