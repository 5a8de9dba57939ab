"""The small pages behind the mail's rating link: a confirmation form, then a thank-you."""

from html import escape
from string import Template

from ticketdesk.satisfaction.models import Rating
from ticketdesk.tickets.models import Ticket

PAGE = Template("""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>$title</title></head>
<body>
<main>
<h1>$title</h1>
$body
</main>
</body>
</html>
""")

FORM = Template("""<p>Your request <strong>$number</strong>: $subject</p>
<form method="post">
<fieldset>
<legend>How did we do?</legend>
<label><input type="radio" name="rating" value="good"$good required> Good, I'm satisfied</label>
<label><input type="radio" name="rating" value="bad"$bad> Bad, I'm unsatisfied</label>
</fieldset>
<p><label for="comment">Anything you would like to add? (optional)</label><br>
<textarea id="comment" name="comment" rows="4" cols="60" maxlength="2000"></textarea></p>
<p><button type="submit">Send my rating</button></p>
</form>
""")


def confirmation(ticket: Ticket, chosen: Rating | None) -> str:
    """Shown on GET: nothing is recorded until the customer presses the button."""
    body = FORM.substitute(
        number=escape(ticket.ticket_number),
        subject=escape(ticket.subject),
        good=" checked" if chosen == Rating.GOOD else "",
        bad=" checked" if chosen == Rating.BAD else "",
    )
    return PAGE.substitute(title="How did we do?", body=body)


def thanks(rating: Rating) -> str:
    text = "We are glad we could help." if rating == Rating.GOOD else "We are sorry to hear it."
    body = f"<p>Thank you for your rating. {text} You may change it through the same link.</p>"
    return PAGE.substitute(title="Thank you", body=body)


def problem(message: str) -> str:
    return PAGE.substitute(title="Rating not recorded", body=f"<p>{escape(message)}</p>")
