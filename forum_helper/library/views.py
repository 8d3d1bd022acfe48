"""Server-rendered library pages: moderators read, admins pin and import."""
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.roles import is_admin, is_moderator
from forum_helper.library.forms import ImportForm, PinForm
from forum_helper.library.models import Passage, Pin
from forum_helper.library.selectors import document_get, document_list
from forum_helper.library.services import document_import, pin_create, pin_delete


def _role_required(check):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


moderator_required = _role_required(is_moderator)
admin_required = _role_required(is_admin)


@moderator_required
def document_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "library/document_list.html", {"documents": document_list(), "can_edit": is_admin(request.user)})


@moderator_required
def document_detail_view(request: HttpRequest, document_id: int) -> HttpResponse:
    document = document_get(document_id=document_id)
    if document is None:
        raise Http404("No such document.")
    return render(
        request,
        "library/document_detail.html",
        {"document": document, "can_edit": is_admin(request.user), "pin_form": PinForm()},
    )


@require_POST
@admin_required
def pin_create_view(request: HttpRequest, passage_id: int) -> HttpResponse:
    passage = get_object_or_404(Passage, pk=passage_id)
    form = PinForm(request.POST)
    target = reverse("library:document_detail", args=[passage.document_id]) + f"#passage-{passage.pk}"
    if not form.is_valid():
        messages.error(request, "Invalid pin: " + "; ".join(e for errs in form.errors.values() for e in errs))
        return redirect(target)
    try:
        pin_create(passage=passage, actor=request.user, **form.cleaned_data)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Pinned.")
    return redirect(target)


@require_POST
@admin_required
def pin_delete_view(request: HttpRequest, pin_id: int) -> HttpResponse:
    pin = get_object_or_404(Pin.objects.select_related("passage"), pk=pin_id)
    target = reverse("library:document_detail", args=[pin.passage.document_id]) + f"#passage-{pin.passage_id}"
    pin_delete(pin=pin, actor=request.user)
    messages.success(request, "Pin removed.")
    return redirect(target)


@admin_required
def document_import_view(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            document = document_import(
                text=form.article_text(),
                title=form.cleaned_data["title"],
                url=form.cleaned_data["url"],
                publisher=form.cleaned_data["publisher"],
                actor=request.user,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        except ValidationError as error:  # an upload that is not UTF-8 text
            form.add_error("file", error.messages[0])
        else:
            messages.success(request, f"Imported “{document.title}” ({document.passages.count()} passages).")
            return redirect("library:document_detail", document_id=document.pk)
    return render(request, "library/document_import.html", {"form": form})
