import re
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from ticketdesk.auth.models import Role
from ticketdesk.auth.scopes import Scope
from ticketdesk.validation import BodyId, NoNulls, Strict, lower_enum, no_nul, text

# Deliberately lenient: one @, no spaces. Internal addresses like admin@localhost are fine.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")


def _email(value: str) -> str:
    if not EMAIL_PATTERN.match(value):
        raise ValueError("not a valid email address")
    return no_nul(value).lower()


Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=320), AfterValidator(_email)
]
Password = Annotated[str, Field(min_length=8, max_length=256), AfterValidator(no_nul)]
FullName = Annotated[str, text(200), AfterValidator(no_nul)]
AnyRole = Annotated[Role, BeforeValidator(lower_enum)]
SelfServiceRole = Annotated[Literal["individual", "enterprise"], BeforeValidator(lower_enum)]


class RegisterIn(Strict):
    email: Email = Field(description="Unique, case-insensitively.", examples=["john@example.com"])
    password: Password = Field(
        description="At least 8 characters, and not easy to guess.",
        examples=["correct-horse-battery-staple"],
    )
    full_name: FullName = Field(examples=["John Doe"])
    role: SelfServiceRole = Field(default="individual", description="A customer's kind.")


class UserCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "jane@example.com",
                    "password": "correct-horse-battery-staple",
                    "full_name": "Jane Roe",
                    "role": "agent",
                }
            ]
        }
    )

    email: Email
    password: Password
    full_name: FullName
    role: AnyRole


USER_NOT_NULL = ("full_name", "role", "is_active")


class UserUpdate(Strict):
    null_refused: ClassVar[frozenset[str]] = frozenset(USER_NOT_NULL)

    full_name: FullName | None = None
    role: AnyRole | None = None
    is_active: bool | None = None
    # null takes the user out of their organization.
    organization_id: BodyId | None = None

    @field_validator(*USER_NOT_NULL, mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class AvailabilityIn(NoNulls):
    available: bool


AnyPassword = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(no_nul)]


class LoginIn(Strict):
    email: Email = Field(examples=["john@example.com"])
    password: AnyPassword = Field(examples=["correct-horse-battery-staple"])


class PasswordChange(Strict):
    current_password: AnyPassword
    new_password: Password


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    role: Role
    is_active: bool
    available: bool
    organization_id: int | None
    created_at: datetime


ScopeName = Annotated[Scope, BeforeValidator(lower_enum)]


class ApiTokenCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Reporting script", "scopes": ["tickets:read"], "expires_in_days": 90}
            ]
        }
    )

    name: Annotated[str, text(100), AfterValidator(no_nul)]
    scopes: Annotated[list[ScopeName], Field(min_length=1, max_length=20)]
    # Every token expires: 90 days unless asked otherwise, a year at most.
    expires_in_days: Annotated[int, Field(ge=1, le=365, strict=True)] = 90


class ApiTokenRead(BaseModel):
    id: int
    user_id: int
    name: str
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


class ApiTokenCreated(ApiTokenRead):
    """The only answer that ever shows the token itself."""

    token: str


class PasswordResetIn(Strict):
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)]


class PasswordResetConfirm(Strict):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    new_password: Password
